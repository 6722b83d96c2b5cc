"""App spaces, their members, DingTalk settings and the audit log (storage-level operations).

Functions here take an ``AsyncSession`` inside the caller's transaction and write their audit
entry in that same transaction, so a change and its record are saved together or not at all.
"""
