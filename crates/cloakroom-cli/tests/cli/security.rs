//! (being written: see the issue 7 work)
