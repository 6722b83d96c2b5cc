"""One module per DingTalk API family."""
