"""Input channels loaded by the Rasa server (Rasa puts this project directory on its import path)."""
