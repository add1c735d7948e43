//! gmm I/O
