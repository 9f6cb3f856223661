"""The JSON shapes Tagih shows to other systems and operators: Pydantic models shared by the operations
API (``bot/web/routes/api*.py``) and the ``tagih`` command, so an account reads the same in both."""
