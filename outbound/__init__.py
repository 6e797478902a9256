"""Outbound text messages: the worker that drains the outbox through Twilio's REST API."""
