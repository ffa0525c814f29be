//! Serializers: how keys and values become bytes (Java
//! `org.apache.kafka.common.serialization`).
//!
//! A [`Serializer<T>`] turns a `&T` into bytes for a topic. It returns a
//! [`Cow`] so that types that already are bytes (`Vec<u8>`, `&[u8]`,
//! `String`, `&str`) are borrowed, not copied: the producer copies them once,
//! straight into the record batch.
//!
//! The built-in serializers match Java's byte for byte:
//!
//! | Rust | Java | bytes |
//! |---|---|---|
//! | [`BytesSerializer`] | `ByteArraySerializer` | as is |
//! | [`StringSerializer`] | `StringSerializer` | UTF-8 |
//! | [`ShortSerializer`] / [`IntegerSerializer`] / [`LongSerializer`] | `ShortSerializer` / `IntegerSerializer` / `LongSerializer` | big-endian two's complement |
//! | [`FloatSerializer`] / [`DoubleSerializer`] | `FloatSerializer` / `DoubleSerializer` | big-endian IEEE 754 |
//! | [`UuidSerializer`] | `UUIDSerializer` | the UUID's canonical text, UTF-8 (Java serializes `UUID.toString()`) |
//!
//! A `None` key or value is never given to a serializer: it is written as
//! null, as Java's serializers map `null` to `null`.
//!
//! ```
//! use kafka_producer::producer::serialization::{IntegerSerializer, Serializer, StringSerializer};
//!
//! let bytes = IntegerSerializer.serialize("topic", &258).unwrap();
//! assert_eq!(&*bytes, &[0, 0, 1, 2]);
//! let bytes = StringSerializer.serialize("topic", "hé").unwrap();
//! assert_eq!(&*bytes, "hé".as_bytes());
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;

/// Turns a `&T` into the bytes of a record key or value.
///
/// Implementations must be cheap and must not block: they run on the
/// calling thread inside `send`. An error fails that one `send` with
/// [`Error::Serialization`] and nothing is appended.
pub trait Serializer<T: ?Sized>: Send + Sync {
    /// The bytes for `data`, to be written to `topic`.
    fn serialize<'a>(&self, topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error>;
}

impl<T: ?Sized, S: Serializer<T> + ?Sized> Serializer<T> for Box<S> {
    fn serialize<'a>(&self, topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error> {
        (**self).serialize(topic, data)
    }
}

impl<T: ?Sized, S: Serializer<T> + ?Sized> Serializer<T> for std::sync::Arc<S> {
    fn serialize<'a>(&self, topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error> {
        (**self).serialize(topic, data)
    }
}

/// Any closure `Fn(&str, &T) -> Result<Vec<u8>, Error>` is a serializer.
#[derive(Clone, Copy)]
pub struct FnSerializer<F>(pub F);

impl<F> fmt::Debug for FnSerializer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnSerializer")
    }
}

impl<T: ?Sized, F> Serializer<T> for FnSerializer<F>
where
    F: Fn(&str, &T) -> Result<Vec<u8>, Error> + Send + Sync,
{
    fn serialize<'a>(&self, topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error> {
        (self.0)(topic, data).map(Cow::Owned)
    }
}

/// Bytes as they are (Java `ByteArraySerializer`): `Vec<u8>`, `&[u8]`,
/// `[u8; N]` and anything else that is `AsRef<[u8]>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesSerializer;

impl<T: AsRef<[u8]> + ?Sized> Serializer<T> for BytesSerializer {
    fn serialize<'a>(&self, _topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error> {
        Ok(Cow::Borrowed(data.as_ref()))
    }
}

/// Text as UTF-8 (Java `StringSerializer` with its default encoding):
/// `String`, `&str` and anything `AsRef<str>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StringSerializer;

impl<T: AsRef<str> + ?Sized> Serializer<T> for StringSerializer {
    fn serialize<'a>(&self, _topic: &str, data: &'a T) -> Result<Cow<'a, [u8]>, Error> {
        Ok(Cow::Borrowed(data.as_ref().as_bytes()))
    }
}

macro_rules! big_endian_serializer {
    ($(#[$doc:meta])* $name:ident, $ty:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Serializer<$ty> for $name {
            fn serialize<'a>(&self, _topic: &str, data: &'a $ty) -> Result<Cow<'a, [u8]>, Error> {
                Ok(Cow::Owned(data.to_be_bytes().to_vec()))
            }
        }
    };
}

big_endian_serializer!(
    /// `i16` as 2 big-endian bytes (Java `ShortSerializer`).
    ShortSerializer,
    i16
);
big_endian_serializer!(
    /// `i32` as 4 big-endian bytes (Java `IntegerSerializer`).
    IntegerSerializer,
    i32
);
big_endian_serializer!(
    /// `i64` as 8 big-endian bytes (Java `LongSerializer`).
    LongSerializer,
    i64
);
big_endian_serializer!(
    /// `f32` as 4 big-endian IEEE 754 bytes (Java `FloatSerializer`).
    FloatSerializer,
    f32
);
big_endian_serializer!(
    /// `f64` as 8 big-endian IEEE 754 bytes (Java `DoubleSerializer`).
    DoubleSerializer,
    f64
);

/// A UUID given as its 16 bytes (most significant first) or as a `u128`,
/// written as Java's `UUIDSerializer` writes it: the canonical lowercase
/// text `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, UTF-8 (36 bytes).
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidSerializer;

fn uuid_text(bytes: &[u8; 16]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push(b'-');
        }
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0f)]);
    }
    out
}

impl Serializer<[u8; 16]> for UuidSerializer {
    fn serialize<'a>(&self, _topic: &str, data: &'a [u8; 16]) -> Result<Cow<'a, [u8]>, Error> {
        Ok(Cow::Owned(uuid_text(data)))
    }
}

impl Serializer<u128> for UuidSerializer {
    fn serialize<'a>(&self, _topic: &str, data: &'a u128) -> Result<Cow<'a, [u8]>, Error> {
        Ok(Cow::Owned(uuid_text(&data.to_be_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian_twos_complement_like_java() {
        assert_eq!(
            &*ShortSerializer.serialize("t", &-2).unwrap(),
            &[0xff, 0xfe]
        );
        assert_eq!(
            &*IntegerSerializer.serialize("t", &0x0102_0304).unwrap(),
            &[1, 2, 3, 4]
        );
        assert_eq!(&*IntegerSerializer.serialize("t", &-1).unwrap(), &[0xff; 4]);
        assert_eq!(
            &*LongSerializer.serialize("t", &1).unwrap(),
            &[0, 0, 0, 0, 0, 0, 0, 1]
        );
        // Java: Double.doubleToLongBits(1.5) = 0x3FF8000000000000
        assert_eq!(
            &*DoubleSerializer.serialize("t", &1.5).unwrap(),
            &[0x3f, 0xf8, 0, 0, 0, 0, 0, 0]
        );
        // Java: Float.floatToRawIntBits(-2.0f) = 0xC0000000
        assert_eq!(
            &*FloatSerializer.serialize("t", &-2.0).unwrap(),
            &[0xc0, 0, 0, 0]
        );
    }

    #[test]
    fn bytes_and_strings_are_borrowed() {
        let v = vec![1u8, 2, 3];
        assert!(matches!(
            BytesSerializer.serialize("t", &v).unwrap(),
            Cow::Borrowed(_)
        ));
        let s = String::from("héllo");
        let out = StringSerializer.serialize("t", &s).unwrap();
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(&*out, "héllo".as_bytes());
        assert_eq!(&*StringSerializer.serialize("t", "").unwrap(), b"");
    }

    #[test]
    fn uuid_is_java_canonical_text() {
        // Java: new UUID(0x0123456789abcdefL, 0xfedcba9876543210L).toString()
        let u: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        let text = UuidSerializer.serialize("t", &u).unwrap();
        assert_eq!(&*text, b"01234567-89ab-cdef-fedc-ba9876543210");
        assert_eq!(
            UuidSerializer.serialize("t", &u.to_be_bytes()).unwrap(),
            text
        );
    }

    #[test]
    fn closures_and_boxes_are_serializers() {
        let s: Box<dyn Serializer<u8>> = Box::new(FnSerializer(|_: &str, v: &u8| Ok(vec![*v, *v])));
        assert_eq!(&*s.serialize("t", &7).unwrap(), &[7, 7]);
        let failing = FnSerializer(|_: &str, _: &u8| Err(Error::Serialization("nope".into())));
        assert!(matches!(
            failing.serialize("t", &1),
            Err(Error::Serialization(_))
        ));
    }
}
