"""Signing in: who a DingTalk user is (identity, resolve), bindings and SMS codes, member
sessions, OAuth state, pending bindings, the space cache and the SMS senders. The pages are
``dingbridge.web.space``."""
