"""The HTTP gateway: where MAC channels submit cases and channels and auditors follow them.

Channels, auditors and operators reach the bus through it with scoped bearer tokens; every
error is an RFC 9457 problem document; no personal data is logged or traced.
"""
