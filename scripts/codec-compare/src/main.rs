//! Compares the codec crates on what a producer compresses: the records
//! section of a batch of 100-byte records, built with this crate's
//! `MemoryRecordsBuilder` (16 KiB and 1 MiB batches; JSON-like values that
//! compress like log lines, and random capital letters, what Kafka's perf
//! tool sends). For each codec crate: compression and decompression MB/s
//! (of uncompressed bytes, one thread, ~0.3 s per figure after a warm-up
//! call) and the compressed/uncompressed ratio. Frames as the producer
//! writes them (LZ4 frame with 64 KiB independent blocks; one zstd frame);
//! snappy as raw blocks (the xerial framing costs the same for any crate).
//! An optional argument keeps only the rows whose name contains it.

use std::io::{Read, Write};
use std::time::Instant;
use kafka_producer::record::{Compression, MemoryRecordsBuilder};

struct Rng(u64);
impl Rng { fn next(&mut self) -> u64 { self.0 ^= self.0 << 13; self.0 ^= self.0 >> 7; self.0 ^= self.0 << 17; self.0 } }

/// The uncompressed records section of a batch of 100-byte values.
fn section(target: usize, kind: &str) -> Vec<u8> {
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let mut b = MemoryRecordsBuilder::new(Vec::new(), Compression::none(), target).unwrap();
    let events = ["click", "view", "purchase", "login", "logout", "search"];
    let mut i = 0u64;
    loop {
        let v: Vec<u8> = if kind == "json" {
            let mut s = format!(
                "{{\"id\":{},\"user\":\"u{:05}\",\"event\":\"{}\",\"ts\":{},\"amount\":{}.{:02}",
                i, rng.next() % 20000, events[(rng.next() % 6) as usize],
                1_700_000_000_000u64 + i * 3, rng.next() % 1000, rng.next() % 100);
            while s.len() < 99 { s.push(' '); }
            s.truncate(99); s.push('}');
            s.into_bytes()
        } else {
            (0..100).map(|_| b'A' + (rng.next() % 26) as u8).collect()
        };
        if !b.has_room_for(1_700_000_000_000, None, Some(&v), &[]) { break; }
        b.append(1_700_000_000_000 + i as i64, None, Some(&v), &[]).unwrap();
        i += 1;
    }
    let bytes = b.build().unwrap();
    bytes[61..].to_vec()
}

fn time<F: FnMut() -> usize>(bytes: usize, mut f: F) -> (f64, usize) {
    // Warm up, then run for ~0.3 s.
    let out = f();
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_secs_f64() < 0.3 { std::hint::black_box(f()); n += 1; }
    let secs = start.elapsed().as_secs_f64() / n as f64;
    (bytes as f64 / secs / 1e6, out)
}

fn row(name: &str, input: &[u8], comp: &dyn Fn(&[u8]) -> Vec<u8>, decomp: &dyn Fn(&[u8]) -> Vec<u8>) {
    let (c_mbs, clen) = time(input.len(), || comp(input).len());
    let z = comp(input);
    assert_eq!(decomp(&z), input, "{name}");
    let (d_mbs, _) = time(input.len(), || decomp(&z).len());
    println!("| {name} | {c_mbs:.0} | {d_mbs:.0} | {:.3} |", clen as f64 / input.len() as f64);
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).collect();
    for kind in ["json", "letters"] {
        for size in [16 * 1024, 1024 * 1024] {
            let input = section(size, kind);
            println!("\n### {kind} values, {} KiB batch ({} bytes of records)\n", size / 1024, input.len());
            println!("| codec (crate, level) | compress MB/s | decompress MB/s | ratio |");
            println!("|---|---:|---:|---:|");
            let want = |n: &str| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str()));
            if want("snap") {
                row("snappy (snap, raw block)", &input,
                    &|d| snap::raw::Encoder::new().compress_vec(d).unwrap(),
                    &|z| snap::raw::Decoder::new().decompress_vec(z).unwrap());
            }
            if want("lz4") {
                let fi = || lz4_flex::frame::FrameInfo::new().block_size(lz4_flex::frame::BlockSize::Max64KB).block_mode(lz4_flex::frame::BlockMode::Independent);
                row("lz4 (lz4_flex frame, fast)", &input,
                    &|d| { let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(fi(), Vec::new()); e.write_all(d).unwrap(); e.finish().unwrap() },
                    &|z| { let mut o = Vec::new(); lz4_flex::frame::FrameDecoder::new(z).read_to_end(&mut o).unwrap(); o });
                for level in [0u32, 9] {
                    row(&format!("lz4 (lz4 C frame, level {level})"), &input,
                        &|d| { let mut e = lz4::EncoderBuilder::new().block_size(lz4::BlockSize::Max64KB).block_mode(lz4::BlockMode::Independent).level(level).build(Vec::new()).unwrap(); e.write_all(d).unwrap(); let (o, r) = e.finish(); r.unwrap(); o },
                        &|z| { let mut o = Vec::new(); lz4::Decoder::new(z).unwrap().read_to_end(&mut o).unwrap(); o });
                }
            }
            if want("zstd") {
                row("zstd (ruzstd, Fastest)", &input,
                    &|d| ruzstd::encoding::compress_to_vec(d, ruzstd::encoding::CompressionLevel::Fastest),
                    &|z| { let mut o = Vec::new(); ruzstd::decoding::StreamingDecoder::new(z).unwrap().read_to_end(&mut o).unwrap(); o });
                for level in [1, 3] {
                    row(&format!("zstd (zstd C, level {level})"), &input,
                        &|d| { let mut e = zstd::stream::Encoder::new(Vec::new(), level).unwrap(); e.write_all(d).unwrap(); e.finish().unwrap() },
                        &|z| { let mut o = Vec::new(); zstd::stream::Decoder::new(z).unwrap().read_to_end(&mut o).unwrap(); o });
                }
            }
        }
    }
}
