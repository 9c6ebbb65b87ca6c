"""Requests the server makes on its own (webhooks), and in the public profile the operator's control of
where they may go: ``targets`` decides, ``sender`` connects only to the addresses it checked."""
