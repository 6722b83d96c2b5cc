"""One module per DingTalk API family; each exposes ``ROUTES``."""
