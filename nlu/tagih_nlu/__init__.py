"""The project's own Rasa NLU components (nlu/ is on the Rasa processes' PYTHONPATH: bot/dialogue/model.py)."""
