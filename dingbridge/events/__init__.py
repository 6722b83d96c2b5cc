"""DingTalk directory events reach the spaces: Stream mode (``stream``), HTTP push callbacks
(``callbacks``), what each event does (``apply``), and the catch-up sync run (``sync_run``)."""
