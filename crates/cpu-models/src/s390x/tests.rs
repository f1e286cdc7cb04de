//! Unit tests for the fiddly parts of the s390x engine.
