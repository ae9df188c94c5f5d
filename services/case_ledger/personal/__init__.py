"""Personal data inside case events (Ley 29733): encrypted at rest, erasable per citizen.

Envelope encryption. Each citizen has a random 256-bit data key; every personal value in a case
event (a DNI, a name, a birth date) is encrypted with AES-GCM under the key of the citizen it is
about, before the event is sealed into its hash chain, so the chain covers the ciphertext. The
data keys are stored wrapped (AES-GCM) by a master key that never enters the database: a file in
the data dir (0600). Erasing a citizen destroys their wrapped key; their values then read as
`[erased]` and everything else, the chain included, stays as it was.

- `master`: the master key file, the key wrapping and the keyed pseudonym of a DNI.
- `keystore`: the wrapped data keys, a table in the ledger's own database.
- `citizens`: finding, creating, caching and destroying one citizen's data key.
- `fields`: which values of an event are personal, and whose; encrypting and decrypting them.
- `mapper`: the ledger's mapper, which encrypts on write and decrypts on read.
"""
