//! One module per API the producer speaks (filled by the protocol work).
