"""The `ventanilla` command: run a local stack, submit and follow cases, start one service."""
