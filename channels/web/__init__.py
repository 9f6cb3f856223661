"""Web chat: the app's own page (and Rasa REST clients). Inbound messages arrive through the app's
routes; outbound ones are pushed to the pages that are open (server-sent events)."""

from channels.web._channel import PageConnections, WebChannel

__all__ = ["PageConnections", "WebChannel"]
