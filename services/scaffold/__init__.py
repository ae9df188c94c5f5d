"""`ventanilla adapter new`: the skeleton of a new entity's package, which works as written."""
