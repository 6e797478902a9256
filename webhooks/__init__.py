"""Twilio webhooks: check the signature, turn form fields into a Turn, render the reply as TwiML."""
