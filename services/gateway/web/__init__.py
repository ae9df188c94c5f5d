"""The gateway's web pages: the counter console for clerks and the citizen's status page."""
