//! Pre-flight sniffing of local disk image files (being written).
