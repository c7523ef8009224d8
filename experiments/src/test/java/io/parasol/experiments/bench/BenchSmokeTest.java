package io.parasol.experiments.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.parasol.common.FloatCodec;
import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.ValueEncoding;
import io.parasol.client.PsClient;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The benchmarks run end to end on tiny sizes and report every figure they promise; the
 * figures themselves are printed by {@code ./parasol bench}, not asserted (a timing claim
 * belongs in a benchmark). What is asserted is what does not depend on the machine: each bench
 * measured something and its ratios are the ratios of its own figures.
 */
class BenchSmokeTest {
  @Test
  void pushPull_measuresParasolAndRawLoopbackInOneRun() throws Exception {
    for (ValueEncoding wire : new ValueEncoding[] {ValueEncoding.VALUE_ENCODING_FP32,
        ValueEncoding.VALUE_ENCODING_BF16}) {
      PushPullBench.Options o = new PushPullBench.Options(50_000, 2, 1, wire, 1, 3, 10,
          FloatCodec.DEFAULT_CHUNK_FLOATS, PsClient.Transport.DEFAULT_WINDOW, 0, true, null);
      Map<String, Object> r = PushPullBench.run(o, null);
      Map<?, ?> f = (Map<?, ?>) r.get("figures");
      for (String p : new String[] {"raw_one_way", "grpc_push", "grpc_pull", "grpc_push_pull",
          "push", "pull", "push_pull"}) {
        Map<?, ?> fig = (Map<?, ?>) f.get(p);
        assertThat(fig).as(p).isNotNull();
        assertThat(num(fig, "gb_per_s")).as(p).isPositive();
        assertThat(num(fig, "ms_p99")).as(p).isGreaterThanOrEqualTo(num(fig, "ms_median"));
      }
      int bytesPerValue = FloatCodec.bytesPerValue(wire);
      // One push (or one pull) carries every value once, plus framing.
      assertThat(num(r, "wire_bytes_per_op")).isBetween(50_000.0 * bytesPerValue,
          1.05 * 50_000 * bytesPerValue);
      assertThat(num(r, "ratio_push_pull_to_raw")).isCloseTo(
          num(r, "push_pull_gb_per_s") / num(r, "raw_one_way_gb_per_s"),
          org.assertj.core.data.Offset.offset(0.01 + 0.01 * num(r, "ratio_push_pull_to_raw")));
      // Both figures are rounded to 0.001 GB/s, which on tiny sizes is a few per cent.
      double parasol = num(r, "push_pull_gb_per_s");
      double plain = num(r, "plain_grpc_push_pull_gb_per_s");
      double ratio = num(r, "ratio_push_pull_to_plain_grpc");
      assertThat(ratio).isCloseTo(parasol / plain, org.assertj.core.data.Offset.offset(
          0.002 + ratio * (0.0006 / parasol + 0.0006 / plain)));
      assertThat(Tables.pushPull(r)).contains("raw TCP").contains("x raw one-way")
          .contains("x plain gRPC");
    }
  }

  @Test
  void apply_measuresTheShardAgainstAnArrayCopy() throws Exception {
    Map<String, Object> r = ApplyBench.run(new ApplyBench.Options(100_000, 2,
        OptimizerKind.OPTIMIZER_ADAM, 2, 5, 10));
    assertThat(num(r, "apply_gb_per_s")).isPositive();
    assertThat(num(r, "copy_gb_per_s")).isPositive();
    assertThat(num(r, "ratio_apply_to_copy")).isPositive();
    assertThat(r.get("repetitions")).isNotNull();
    assertThat(Tables.apply(r)).contains("copy");
  }

  @Test
  void step_timesParasolAgainstTheLocalLoop() throws Exception {
    Map<String, Object> r = StepBench.run(new StepBench.Options("softmax", 20_000, 10, 32, 1,
        ValueEncoding.VALUE_ENCODING_FP32, 2, 5, 10, 1), null);
    assertThat(num(r, "ratio_parasol_to_local")).isPositive();
    assertThat(num(r, "last_loss_parasol")).isFinite().isPositive();
    assertThat(num(r, "last_loss_local")).isFinite().isPositive();
    Map<?, ?> f = (Map<?, ?>) r.get("figures");
    for (String p : new String[] {"local", "parasol", "parasol_arrays"}) {
      assertThat(num((Map<?, ?>) f.get(p), "ms_median")).as(p).isPositive();
    }
    assertThat(Tables.step(r)).contains("local");
  }

  private static double num(Map<?, ?> m, String key) {
    Object v = m.get(key);
    assertThat(v).as(key).isInstanceOf(Number.class);
    return ((Number) v).doubleValue();
  }
}
