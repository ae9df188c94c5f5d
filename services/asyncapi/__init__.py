"""The bus contract as an AsyncAPI 3.0 document, generated from the code (docs/asyncapi.md)."""
