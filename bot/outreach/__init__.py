"""Reminders as use-cases: the ladder in force, planning the nudges that are due, the collection-rules
gate, exactly-once dispatch, handoff acknowledgments and the operator's preview. Run on a timer by
``scheduler`` and on demand by ``tagih nudges``."""
