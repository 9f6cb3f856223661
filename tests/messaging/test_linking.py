from datetime import datetime, timedelta, timezone

from bot.services.linking import make_link_token, read_link_token

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)


def test_token_round_trip_and_fits_telegram_start_parameter():
    token = make_link_token("s3cret", 42, now=NOW, ttl=timedelta(hours=72))
    assert len(token) <= 64 and all(c.isalnum() or c in "_-" for c in token)
    assert read_link_token("s3cret", token, now=NOW + timedelta(hours=71)) == 42


def test_expired_forged_or_malformed_tokens_are_refused():
    token = make_link_token("s3cret", 42, now=NOW, ttl=timedelta(hours=72))
    assert read_link_token("s3cret", token, now=NOW + timedelta(hours=73)) is None
    assert read_link_token("other", token, now=NOW) is None
    forged = token.replace("42_", "43_", 1)
    assert read_link_token("s3cret", forged, now=NOW) is None
    assert read_link_token("s3cret", "hello", now=NOW) is None
    assert read_link_token("s3cret", "", now=NOW) is None
