"""Timed outbound work (reminder ladder, APScheduler jobs). Jobs stay thin and call ``bot.services``."""
