"""SMS providers: Twilio (signature, TwiML, sending) and the console stand-in for demos."""
