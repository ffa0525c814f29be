//! Two small pieces of the Java runtime that the tools' output depends on:
//! `String.format("%.Nf")` ([`format_fixed`]) and
//! `java.util.SplittableRandom` ([`SplittableRandom`]).
//!
//! Rust's `{:.N}` rounds the exact binary value half-to-even, so
//! `format!("{:.2}", 1.005)` is `1.00`; Java's `Formatter` rounds the
//! shortest decimal form of the double half-up, so Java prints `1.01`. The
//! perf tool prints numbers the way Java does, so that its lines can be
//! compared with Java's character for character. The vectors in
//! `tests/data/tools/java_format.tsv` were printed by a JDK 17.
//!
//! `ProducerPerformance` fills its payloads from `new SplittableRandom(0)`;
//! with the same generator our payloads are byte-identical to Java's.

/// `x` formatted as Java's `String.format("%.{precision}f", x)` does in the
/// root locale: the shortest decimal that reads back as `x`, rounded half-up
/// to `precision` decimals; `NaN`, `Infinity` and `-Infinity` for the
/// non-finite values; a `-` sign kept on negative values that round to zero.
#[must_use]
pub fn format_fixed(x: f64, precision: usize) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // `{:e}` prints the shortest round-trip digits: "1.005e0", "5e-7", "0e0".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    // The value is 0.d1d2d3... * 10^point.
    let point = exponent + 1;

    // Lay the digits out as integer part + fraction with explicit zeros.
    let mut all: Vec<u8> = Vec::new();
    let mut int_len: usize;
    if point <= 0 {
        all.push(0);
        all.extend(std::iter::repeat_n(0, usize::try_from(-point).unwrap_or(0)));
        all.extend_from_slice(&digits);
        int_len = 1;
    } else {
        let point = usize::try_from(point).unwrap_or(0);
        all.extend_from_slice(&digits);
        if all.len() < point {
            all.resize(point, 0);
        }
        int_len = point;
    }

    // Round half-up at the requested decimal: only the first dropped digit
    // matters for half-up.
    let keep = int_len + precision;
    if all.len() > keep {
        let round_up = all[keep] >= 5;
        all.truncate(keep);
        if round_up {
            let mut i = keep;
            let mut carry = true;
            while carry && i > 0 {
                i -= 1;
                if all[i] == 9 {
                    all[i] = 0;
                } else {
                    all[i] += 1;
                    carry = false;
                }
            }
            if carry {
                all.insert(0, 1);
                int_len += 1;
            }
        }
    } else {
        all.resize(keep, 0);
    }

    let mut out = String::with_capacity(all.len() + 2);
    if x.is_sign_negative() {
        out.push('-');
    }
    // Java prints no redundant leading zeros in the integer part.
    let first_nonzero = all[..int_len - 1]
        .iter()
        .position(|d| *d != 0)
        .unwrap_or(int_len - 1);
    for d in &all[first_nonzero..int_len] {
        out.push(char::from(b'0' + d));
    }
    if precision > 0 {
        out.push('.');
        for d in &all[int_len..] {
            out.push(char::from(b'0' + d));
        }
    }
    out
}

/// Java's `java.util.SplittableRandom`, for the values `ProducerPerformance`
/// draws: same seed, same sequence.
#[derive(Debug, Clone)]
pub struct SplittableRandom {
    seed: u64,
    gamma: u64,
}

/// Java's `SplittableRandom.GOLDEN_GAMMA`.
const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl SplittableRandom {
    /// A generator seeded as `new SplittableRandom(seed)`.
    #[must_use]
    pub fn new(seed: i64) -> Self {
        SplittableRandom {
            seed: seed as u64,
            gamma: GOLDEN_GAMMA,
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = self.seed.wrapping_add(self.gamma);
        self.seed
    }

    fn mix32(z: u64) -> i32 {
        let z = (z ^ (z >> 33)).wrapping_mul(0x62a9_d9ed_7997_05f5);
        // Java keeps the high 32 bits of the product as an int.
        ((z ^ (z >> 28)).wrapping_mul(0xcb24_d0a5_c88c_35b3) >> 32) as u32 as i32
    }

    /// `nextInt()`: a uniformly distributed `int`.
    pub fn next_int(&mut self) -> i32 {
        Self::mix32(self.next_seed())
    }

    /// `nextInt(bound)`: uniform in `0..bound`, with Java's rejection of
    /// over-represented values. `bound` must be positive (Java throws
    /// otherwise); a non-positive bound returns 0.
    pub fn next_int_bounded(&mut self, bound: i32) -> i32 {
        if bound <= 0 {
            return 0;
        }
        let mut r = self.next_int();
        let m = bound - 1;
        if bound & m == 0 {
            return r & m;
        }
        // Java: for (u = r >>> 1; u + m - (r = u % bound) < 0; u = next >>> 1);
        let mut u = ((r as u32) >> 1) as i32;
        loop {
            r = u % bound;
            if u.wrapping_add(m).wrapping_sub(r) >= 0 {
                return r;
            }
            u = ((self.next_int() as u32) >> 1) as i32;
        }
    }

    /// Fills `buf` with random uppercase ASCII letters, one
    /// `nextInt(26) + 65` per byte, as `ProducerPerformance` builds its
    /// payloads.
    pub fn fill_uppercase(&mut self, buf: &mut [u8]) {
        for b in buf {
            // nextInt(26) is in 0..26, so the sum is an ASCII letter.
            *b = b'A' + self.next_int_bounded(26) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_java_on_rounding_edges() {
        // Values where Rust's own formatting differs from Java's.
        assert_eq!(format_fixed(1.005, 2), "1.01");
        assert_eq!(format_fixed(0.125, 2), "0.13");
        assert_eq!(format_fixed(0.125, 1), "0.1");
        assert_eq!(format_fixed(0.05, 1), "0.1");
        assert_eq!(format_fixed(2.5, 0), "3");
        assert_eq!(format_fixed(9.995, 2), "10.00");
        assert_eq!(format_fixed(0.0, 1), "0.0");
        assert_eq!(format_fixed(-0.001, 1), "-0.0");
        assert_eq!(format_fixed(5e-7, 6), "0.000001");
        assert_eq!(format_fixed(1e-7, 6), "0.000000");
        assert_eq!(format_fixed(1e21, 1), "1000000000000000000000.0");
        assert_eq!(format_fixed(123_456.0, 6), "123456.000000");
        assert_eq!(format_fixed(f64::NAN, 2), "NaN");
        assert_eq!(format_fixed(f64::INFINITY, 1), "Infinity");
        assert_eq!(format_fixed(f64::NEG_INFINITY, 1), "-Infinity");
    }

    #[test]
    fn splittable_random_matches_java_for_seed_zero() {
        // new SplittableRandom(0): 20 x nextInt(7), printed by a JDK 17.
        let mut r = SplittableRandom::new(0);
        let got: Vec<i32> = (0..20).map(|_| r.next_int_bounded(7)).collect();
        assert_eq!(
            got,
            [6, 2, 0, 5, 4, 6, 3, 2, 2, 2, 5, 2, 6, 1, 3, 2, 1, 2, 0, 6]
        );
        // Power-of-two bounds take the mask path.
        let mut a = SplittableRandom::new(0);
        let mut b = SplittableRandom::new(0);
        assert_eq!(a.next_int_bounded(16), b.next_int() & 15);
    }
}
