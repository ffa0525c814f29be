//! Java producer keys translated into librdkafka's, for the librdkafka
//! runner: the workloads are written once, in Java's key names, and each
//! runner gets the same list. The table is repeated in
//! `docs/performance.md`.
//!
//! | Java key | librdkafka | why |
//! |---|---|---|
//! | `acks`, `enable.idempotence`, `linger.ms`, `request.timeout.ms`, `retries`, `retry.backoff.ms`, `retry.backoff.max.ms`, `max.in.flight.requests.per.connection`, `delivery.timeout.ms`, `client.id` | same key | same meaning (`delivery.timeout.ms` is librdkafka's alias of `message.timeout.ms`) |
//! | `batch.size` | `batch.size`, and `batch.num.messages` = 1,000,000 (its maximum) | both cap a batch's bytes, record-batch framing included; librdkafka also caps a batch at 10,000 messages by default, Java has no count limit |
//! | `buffer.memory` | `queue.buffering.max.kbytes` = bytes / 1024 (rounded up), `queue.buffering.max.messages` = 0 (no count limit) | both bound what waits to be sent; librdkafka would also stop at 100,000 messages |
//! | `compression.type` | `compression.type` | same codec names |
//! | `compression.gzip.level`, `compression.zstd.level` | `compression.level` | librdkafka has one level key for every codec; Java's default (-1 for gzip, 3 for zstd) is librdkafka's -1 (the codec's default: zlib's 6, zstd's 3) |
//! | `compression.lz4.level` | `compression.level`, Java's default 9 as -1 | Java writes its default level with LZ4's fast compressor and other levels with LZ4 HC; librdkafka's -1 (and 0-2) is the fast one, 3-12 HC |
//! | `max.request.size` | `message.max.bytes` | the largest request; librdkafka's default (1,000,000) would also cap its 1 MiB batches |
//! | (always) | `partitioner` = `murmur2_random` | Java's partitioner for keyed records; librdkafka's default is CRC32 (`consistent_random`). Unkeyed records: both stick to a partition, Java per batch, librdkafka per `sticky.partitioning.linger.ms` (2 × `linger.ms`) |
//! | `max.block.ms`, `key.serializer`, `value.serializer` | dropped | librdkafka's produce never blocks (the runner polls and retries while the queue is full) and takes bytes |
//!
//! Any other key is passed on as it is, and librdkafka refuses the ones it
//! does not know (the run then reports the error).

/// `props` (Java keys, in order) as librdkafka properties.
#[must_use]
pub fn java_to_librdkafka(props: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        vec![("partitioner".to_owned(), "murmur2_random".to_owned())];
    let mut set = |k: &str, v: String| {
        out.retain(|(key, _)| key != k);
        out.push((k.to_owned(), v));
    };
    for (key, value) in props {
        match key.as_str() {
            "batch.size" => {
                set("batch.size", value.clone());
                set("batch.num.messages", "1000000".to_owned());
            }
            "buffer.memory" => {
                let kbytes = value
                    .parse::<u64>()
                    .map_or_else(|_| value.clone(), |b| b.div_ceil(1024).max(1).to_string());
                set("queue.buffering.max.kbytes", kbytes);
                set("queue.buffering.max.messages", "0".to_owned());
            }
            "compression.gzip.level" | "compression.zstd.level" => {
                let level = match (key.as_str(), value.as_str()) {
                    ("compression.zstd.level", "3") => "-1".to_owned(),
                    _ => value.clone(),
                };
                set("compression.level", level);
            }
            "compression.lz4.level" => {
                let level = if value == "9" { "-1" } else { value.as_str() };
                set("compression.level", level.to_owned());
            }
            "max.request.size" => set("message.max.bytes", value.clone()),
            "max.block.ms" | "key.serializer" | "value.serializer" => {}
            _ => set(key, value.clone()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(props: &[(&str, &str)]) -> Vec<(String, String)> {
        let props: Vec<(String, String)> = props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        java_to_librdkafka(&props)
    }

    fn get<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
        props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn translates_the_keys_that_differ() {
        let p = map(&[
            ("acks", "all"),
            ("batch.size", "65536"),
            ("buffer.memory", "33554432"),
            ("compression.lz4.level", "9"),
            ("max.request.size", "1048576"),
            ("max.block.ms", "60000"),
            ("linger.ms", "5"),
        ]);
        assert_eq!(get(&p, "partitioner"), Some("murmur2_random"));
        assert_eq!(get(&p, "acks"), Some("all"));
        assert_eq!(get(&p, "linger.ms"), Some("5"));
        assert_eq!(get(&p, "batch.size"), Some("65536"));
        assert_eq!(get(&p, "batch.num.messages"), Some("1000000"));
        assert_eq!(get(&p, "queue.buffering.max.kbytes"), Some("32768"));
        assert_eq!(get(&p, "queue.buffering.max.messages"), Some("0"));
        assert_eq!(get(&p, "compression.level"), Some("-1"));
        assert_eq!(get(&p, "message.max.bytes"), Some("1048576"));
        assert_eq!(get(&p, "max.block.ms"), None);
    }

    #[test]
    fn later_values_win_and_levels_pass_through() {
        let p = map(&[
            ("compression.gzip.level", "1"),
            ("linger.ms", "5"),
            ("linger.ms", "0"),
            ("buffer.memory", "1000"),
        ]);
        assert_eq!(get(&p, "compression.level"), Some("1"));
        assert_eq!(get(&p, "linger.ms"), Some("0"));
        assert_eq!(p.iter().filter(|(k, _)| k == "linger.ms").count(), 1);
        assert_eq!(get(&p, "queue.buffering.max.kbytes"), Some("1"));
        assert_eq!(
            get(
                &map(&[("compression.zstd.level", "3")]),
                "compression.level"
            ),
            Some("-1")
        );
    }
}
