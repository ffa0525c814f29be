// Prints the vectors in this directory with a JDK (17 here):
//   javac JavaVectors.java && java JavaVectors
// java_format.tsv: doubles and Java's %.1f, %.2f, %.3f and %f of each.
// perf_lines.tsv: inputs of the perf tool's report lines and the lines Java's
//   format strings make of them.
// payloads.txt: the first record-size payloads of new SplittableRandom(0).
import java.io.PrintWriter;
import java.util.Random;
import java.util.SplittableRandom;

public class JavaVectors {
    public static void main(String[] args) throws Exception {
        try (PrintWriter out = new PrintWriter("java_format.tsv", "UTF-8")) {
            out.println("# bits_hex\tjava_toString\tf1\tf2\tf3\tf6");
            double[] fixed = {0.125, 1.005, 2.5, 0.05, 9.995, 123456.0, 1e-7, 5e-7, 1e21, 0.0, -0.001,
                199.973337, 1.0 / 3, 2.0 / 3, 4.35, 0.45, 1234567.891, 0.95, 100.05, 5.0E-5, 0.0005,
                0.00049999, 99.95, 999.95, 1e15 + 0.5, 1e-300, Double.MIN_VALUE, Double.MAX_VALUE};
            for (double x : fixed) row(out, x);
            Random r = new Random(42);
            for (int i = 0; i < 2000; i++) {
                double x;
                switch (i % 4) {
                    case 0: x = r.nextDouble() * 1000; break;
                    case 1: x = r.nextInt(100000) / 1000.0 + 0.0005; break;
                    case 2: x = 1000.0 * r.nextInt(10_000_000) / (1 + r.nextInt(60_000)); break;
                    default: x = r.nextInt(2000) / 8.0; break;
                }
                row(out, x);
            }
        }
        try (PrintWriter out = new PrintWriter("perf_lines.tsv", "UTF-8")) {
            out.println("# kind\tcount\tbytes\telapsed_ms\ttotal_latency\tmax_latency\tp50\tp95\tp99\tp999\tsteady\tline");
            Random r = new Random(7);
            for (int i = 0; i < 200; i++) {
                long count = 1 + r.nextInt(5_000_000);
                long bytes = count * (1 + r.nextInt(2000));
                long elapsed = i == 0 ? 0 : 1 + r.nextInt(100_000);
                long total = count * r.nextInt(50) + r.nextInt(1000);
                int max = r.nextInt(5000);
                int p50 = r.nextInt(50), p95 = r.nextInt(100), p99 = r.nextInt(200), p999 = r.nextInt(900);
                boolean steady = r.nextBoolean();
                double recsPerSec = 1000.0 * count / (double) elapsed;
                double mbPerSec = 1000.0 * bytes / (double) elapsed / (1024.0 * 1024.0);
                String window = String.format("%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.",
                    count, recsPerSec, mbPerSec, total / (double) count, (double) max);
                String totalLine = String.format("%d%s records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
                    count, steady ? " steady state" : "", recsPerSec, mbPerSec, total / (double) count, (double) max, p50, p95, p99, p999);
                String in = count + "\t" + bytes + "\t" + elapsed + "\t" + total + "\t" + max + "\t" + p50 + "\t" + p95 + "\t" + p99 + "\t" + p999 + "\t" + steady;
                out.println("window\t" + in + "\t" + window);
                out.println("total\t" + in + "\t" + totalLine);
            }
        }
        try (PrintWriter out = new PrintWriter("payloads.txt", "UTF-8")) {
            out.println("# new SplittableRandom(0); each line one payload of --record-size 100, in send order");
            SplittableRandom random = new SplittableRandom(0);
            byte[] payload = new byte[100];
            for (int i = 0; i < 50; i++) {
                for (int j = 0; j < payload.length; ++j) payload[j] = (byte) (random.nextInt(26) + 65);
                out.println(new String(payload, "US-ASCII"));
            }
        }
    }

    static void row(PrintWriter out, double x) {
        out.println(Long.toHexString(Double.doubleToRawLongBits(x)) + "\t" + x + "\t"
            + String.format("%.1f", x) + "\t" + String.format("%.2f", x) + "\t"
            + String.format("%.3f", x) + "\t" + String.format("%f", x));
    }
}
