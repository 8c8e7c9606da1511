//! CRC-64/XZ ("CRC-64/ECMA" as OSS names it, `x-oss-hash-crc64ecma`): streaming digest and
//! combination of per-part CRCs (spec oss-upload.md §3).

/// Reflected ECMA-182 polynomial.
const POLY: u64 = 0xC96C_5795_D787_0F42;

/// Streaming CRC-64/XZ.
#[derive(Clone)]
pub struct Crc64(crc64fast::Digest);

impl std::fmt::Debug for Crc64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crc64({:#018x})", self.value())
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Self(crc64fast::Digest::new())
    }
}

impl Crc64 {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    pub fn value(&self) -> u64 {
        self.0.sum64()
    }
}

/// CRC-64/XZ of a byte slice.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut crc = Crc64::new();
    crc.update(bytes);
    crc.value()
}

fn gf2_times(matrix: &[u64; 64], mut vector: u64) -> u64 {
    let mut sum = 0;
    let mut i = 0;
    while vector != 0 {
        if vector & 1 != 0 {
            sum ^= matrix[i];
        }
        vector >>= 1;
        i += 1;
    }
    sum
}

fn gf2_square(square: &mut [u64; 64], matrix: &[u64; 64]) {
    for n in 0..64 {
        square[n] = gf2_times(matrix, matrix[n]);
    }
}

/// CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)` (zlib's `crc32_combine`, for 64 bits):
/// lets parts be checked independently and the whole object verified without re-reading it.
pub fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    let mut even = [0u64; 64];
    let mut odd = [0u64; 64];
    // Operator for one zero bit.
    odd[0] = POLY;
    let mut row = 1u64;
    for slot in odd.iter_mut().skip(1) {
        *slot = row;
        row <<= 1;
    }
    gf2_square(&mut even, &odd); // two zero bits
    gf2_square(&mut odd, &even); // four zero bits
    let mut crc = crc_a;
    let mut len = len_b;
    loop {
        gf2_square(&mut even, &odd);
        if len & 1 != 0 {
            crc = gf2_times(&even, crc);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
        gf2_square(&mut odd, &even);
        if len & 1 != 0 {
            crc = gf2_times(&odd, crc);
        }
        len >>= 1;
        if len == 0 {
            break;
        }
    }
    crc ^ crc_b
}

#[cfg(test)]
mod tests {
    use super::*;

    const EBS: &[u8] = b"This is a test of the emergency broadcast system.";

    #[test]
    fn published_check_values() {
        assert_eq!(checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(checksum(b"123456789"), 11_051_210_869_376_104_954);
        assert_eq!(checksum(EBS), 0x27DB_187F_C15B_BC72);
        assert_eq!(checksum(b""), 0);
    }

    #[test]
    fn combining_parts_equals_the_whole() {
        let whole = [b"123456789".as_slice(), EBS].concat();
        assert_eq!(checksum(&whole), 0x6A7A_A19F_CBF4_8688);
        assert_eq!(combine(checksum(b"123456789"), checksum(EBS), EBS.len() as u64), 0x6A7A_A19F_CBF4_8688);
        assert_eq!(combine(checksum(b"abc"), 0, 0), checksum(b"abc"));
        // Many uneven parts.
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut acc = 0;
        for chunk in data.chunks(7_777) {
            acc = combine(acc, checksum(chunk), chunk.len() as u64);
        }
        assert_eq!(acc, checksum(&data));
    }
}
