"""Timed outbound work: the APScheduler jobs and the leader lease. Jobs stay thin and call the
reminder use-cases in ``bot.outreach``; ``ladder.yml`` here is the default reminder ladder."""
