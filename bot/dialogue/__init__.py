"""Glue between the app and the Rasa server: reply catalogue, Rasa HTTP client, training and evaluation."""
