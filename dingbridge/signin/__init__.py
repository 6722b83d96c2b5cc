"""Signing in: verification codes, SMS senders, and (later) the DingTalk sign-in flows."""
