package io.parasol.server.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.parasol.proto.v1.OptimizerKind;
import io.parasol.proto.v1.OptimizerSpec;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The server-side optimizers in isolation: three steps against a reference computed by hand in
 * double arithmetic, plus the copy/reset/state/steps contract of {@link BlockOptimizer}.
 */
class OptimizersTest {

  private static final float[] X0 = {1.0f, -2.0f, 0.5f};
  private static final float[] G1 = {0.5f, -1.0f, 0.0f};
  private static final float[] G2 = {-0.25f, 0.0f, 2.0f};
  private static final float[] G3 = {0.0f, -0.75f, 1.5f};
  private static final float LR = 0.1f;
  private static final double REL_TOL = 1e-6;

  // ---------------------------------------------------------------- helpers

  private static OptimizerSpec spec(OptimizerKind kind) {
    return OptimizerSpec.newBuilder().setKind(kind).build();
  }

  private static OptimizerSpec momentum(float beta) {
    return OptimizerSpec.newBuilder()
        .setKind(OptimizerKind.OPTIMIZER_MOMENTUM).setBeta1(beta).build();
  }

  private static OptimizerSpec adagrad(float eps) {
    return OptimizerSpec.newBuilder()
        .setKind(OptimizerKind.OPTIMIZER_ADAGRAD).setEpsilon(eps).build();
  }

  private static OptimizerSpec adam(float beta1, float beta2, float eps) {
    return OptimizerSpec.newBuilder().setKind(OptimizerKind.OPTIMIZER_ADAM)
        .setBeta1(beta1).setBeta2(beta2).setEpsilon(eps).build();
  }

  /** One spec of each kind, with non-default hyper-parameters where there are any. */
  static List<OptimizerSpec> allSpecs() {
    return List.of(
        spec(OptimizerKind.OPTIMIZER_SGD),
        momentum(0.5f),
        adagrad(1e-6f),
        adam(0.8f, 0.99f, 1e-6f));
  }

  private static double[] d(float[] a) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i];
    }
    return r;
  }

  private static float[] threeSteps(BlockOptimizer opt) {
    float[] x = X0.clone();
    opt.step(x, G1.clone(), LR);
    opt.step(x, G2.clone(), LR);
    opt.step(x, G3.clone(), LR);
    return x;
  }

  private static float[][] deepCopy(float[][] s) {
    float[][] r = new float[s.length][];
    for (int i = 0; i < s.length; i++) {
      r[i] = s[i].clone();
    }
    return r;
  }

  private static void assertClose(String what, float[] actual, double[] expected) {
    assertThat(actual).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat((double) actual[i])
          .as("%s[%d]", what, i)
          .isCloseTo(expected[i], within(REL_TOL * Math.abs(expected[i])));
    }
  }

  // ------------------------------------------------- reference steps (double)

  /** x ← x − η·g. */
  private static void sgdRef(double[] x, double[] g, double lr) {
    for (int i = 0; i < x.length; i++) {
      x[i] = x[i] - lr * g[i];
    }
  }

  /** v ← β·v + g; x ← x − η·v. */
  private static void momentumRef(double[] x, double[] v, double[] g, double beta, double lr) {
    for (int i = 0; i < x.length; i++) {
      v[i] = beta * v[i] + g[i];
      x[i] = x[i] - lr * v[i];
    }
  }

  /** G ← G + g²; x ← x − η·g/(√G + ε). */
  private static void adagradRef(double[] x, double[] sum, double[] g, double eps, double lr) {
    for (int i = 0; i < x.length; i++) {
      sum[i] = sum[i] + g[i] * g[i];
      x[i] = x[i] - lr * g[i] / (Math.sqrt(sum[i]) + eps);
    }
  }

  /** m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; x ← x − η·m̂/(√v̂ + ε). */
  private static void adamRef(double[] x, double[] m, double[] v, double[] g, int t,
      double b1, double b2, double eps, double lr) {
    double c1 = 1 - Math.pow(b1, t);
    double c2 = 1 - Math.pow(b2, t);
    for (int i = 0; i < x.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      double mHat = m[i] / c1;
      double vHat = v[i] / c2;
      x[i] = x[i] - lr * mHat / (Math.sqrt(vHat) + eps);
    }
  }

  // ------------------------------------------------------ three-step checks

  /** One step of a reference optimizer on x with its state arrays, at step number t (1-based). */
  @FunctionalInterface
  private interface ReferenceStep {
    void apply(double[] x, double[][] state, double[] g, int t);
  }

  /** A spec, how many state arrays it keeps, and its reference step (the same hyper-parameters). */
  private record Case(String name, OptimizerSpec spec, int stateArrays, ReferenceStep reference) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Stream<Case> threeStepCases() {
    return Stream.of(
        new Case("sgd", spec(OptimizerKind.OPTIMIZER_SGD), 0,
            (x, st, g, t) -> sgdRef(x, g, LR)),
        new Case("momentum, beta 0.5", momentum(0.5f), 1,
            (x, st, g, t) -> momentumRef(x, st[0], g, 0.5f, LR)),
        new Case("momentum, default beta 0.9", spec(OptimizerKind.OPTIMIZER_MOMENTUM), 1,
            (x, st, g, t) -> momentumRef(x, st[0], g, 0.9f, LR)),
        new Case("adagrad, default eps 1e-8", spec(OptimizerKind.OPTIMIZER_ADAGRAD), 1,
            (x, st, g, t) -> adagradRef(x, st[0], g, 1e-8f, LR)),
        // A large eps so that its effect is visible well above the tolerance.
        new Case("adagrad, eps 0.1", adagrad(0.1f), 1,
            (x, st, g, t) -> adagradRef(x, st[0], g, 0.1f, LR)),
        new Case("adam, 0.8 0.99 1e-6", adam(0.8f, 0.99f, 1e-6f), 2,
            (x, st, g, t) -> adamRef(x, st[0], st[1], g, t, 0.8f, 0.99f, 1e-6f, LR)),
        new Case("adam, defaults 0.9 0.999 1e-8", spec(OptimizerKind.OPTIMIZER_ADAM), 2,
            (x, st, g, t) -> adamRef(x, st[0], st[1], g, t, 0.9f, 0.999f, 1e-8f, LR)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("threeStepCases")
  void threeSteps_matchHandComputedReference(Case c) {
    BlockOptimizer opt = BlockOptimizer.create(c.spec(), 3);
    float[] x = threeSteps(opt);

    double[] ref = d(X0);
    double[][] state = new double[c.stateArrays()][3];
    float[][] gradients = {G1, G2, G3};
    for (int t = 1; t <= gradients.length; t++) {
      c.reference().apply(ref, state, d(gradients[t - 1]), t);
    }

    assertClose("x", x, ref);
    assertThat(opt.state()).hasNumberOfRows(c.stateArrays());
    for (int i = 0; i < state.length; i++) {
      assertClose("state[" + i + "]", opt.state()[i], state[i]);
    }
    assertThat(opt.steps()).isEqualTo(3);
  }

  @Test
  void adam_firstStep_movesEachNonZeroComponentByAboutLr() {
    // With bias correction the first Adam step is η·g/(|g| + ε') ≈ η·sign(g).
    BlockOptimizer opt = BlockOptimizer.create(spec(OptimizerKind.OPTIMIZER_ADAM), 3);
    float[] x = X0.clone();
    opt.step(x, G1.clone(), LR);
    assertThat((double) x[0]).isCloseTo(X0[0] - LR, within(1e-6));
    assertThat((double) x[1]).isCloseTo(X0[1] + LR, within(1e-6));
    assertThat(x[2]).isEqualTo(X0[2]);
  }

  // ------------------------------------------------------------------ copy()

  @ParameterizedTest
  @MethodSource("allSpecs")
  void copy_continuedWithSameGradients_givesIdenticalResults(OptimizerSpec s) {
    BlockOptimizer orig = BlockOptimizer.create(s, 3);
    float[] xo = X0.clone();
    orig.step(xo, G1.clone(), LR);

    BlockOptimizer copy = orig.copy();
    assertThat(copy.steps()).as("%s steps", s.getKind()).isEqualTo(orig.steps());
    float[] xc = xo.clone();

    orig.step(xo, G2.clone(), LR);
    orig.step(xo, G3.clone(), LR);
    copy.step(xc, G2.clone(), LR);
    copy.step(xc, G3.clone(), LR);

    assertThat(xc).as("%s x", s.getKind()).isEqualTo(xo);
    assertThat(copy.state()).as("%s state", s.getKind()).isDeepEqualTo(orig.state());
    assertThat(copy.steps()).as("%s steps", s.getKind()).isEqualTo(orig.steps());
    // And both equal a single optimizer that took all three steps.
    assertThat(xo).as("%s x vs fresh", s.getKind())
        .isEqualTo(threeSteps(BlockOptimizer.create(s, 3)));
  }

  @ParameterizedTest
  @MethodSource("allSpecs")
  void copy_steppingCopy_leavesOriginalStateUnchanged(OptimizerSpec s) {
    BlockOptimizer orig = BlockOptimizer.create(s, 3);
    float[] xo = X0.clone();
    orig.step(xo, G1.clone(), LR);
    float[][] before = deepCopy(orig.state());
    long stepsBefore = orig.steps();

    BlockOptimizer copy = orig.copy();
    for (int i = 0; i < copy.state().length; i++) {
      assertThat(copy.state()[i]).as("%s state[%d]", s.getKind(), i)
          .isNotSameAs(orig.state()[i]);
    }
    float[] xc = xo.clone();
    copy.step(xc, G2.clone(), LR);
    copy.step(xc, G3.clone(), LR);

    assertThat(orig.state()).as("%s state", s.getKind()).isDeepEqualTo(before);
    assertThat(orig.steps()).as("%s steps", s.getKind()).isEqualTo(stepsBefore);
    assertThat(copy.steps()).as("%s copy steps", s.getKind()).isEqualTo(stepsBefore + 2);
  }

  // ----------------------------------------------------------------- reset()

  @ParameterizedTest
  @MethodSource("allSpecs")
  void reset_afterSteps_zeroesStateAndSteps(OptimizerSpec s) {
    BlockOptimizer opt = BlockOptimizer.create(s, 3);
    threeSteps(opt);
    opt.reset();

    assertThat(opt.steps()).as("%s steps", s.getKind()).isZero();
    float[][] st = opt.state();
    for (int i = 0; i < st.length; i++) {
      assertThat(st[i]).as("%s state[%d]", s.getKind(), i)
          .hasSize(3)
          .containsOnly(0f);
    }
  }

  @ParameterizedTest
  @MethodSource("allSpecs")
  void reset_afterSteps_keepsHyperParametersAndReproducesFreshResult(OptimizerSpec s) {
    float[] fresh = threeSteps(BlockOptimizer.create(s, 3));
    float[][] freshState = BlockOptimizer.create(s, 3).state();

    BlockOptimizer opt = BlockOptimizer.create(s, 3);
    threeSteps(opt);
    opt.reset();
    float[] again = threeSteps(opt);

    BlockOptimizer ref = BlockOptimizer.create(s, 3);
    threeSteps(ref);
    assertThat(again).as("%s x", s.getKind()).isEqualTo(fresh);
    assertThat(opt.state()).as("%s state", s.getKind()).isDeepEqualTo(ref.state());
    assertThat(opt.steps()).as("%s steps", s.getKind()).isEqualTo(3);
    assertThat(freshState.length).isEqualTo(opt.state().length);
  }

  // ------------------------------------------------------ state() and steps

  @Test
  void state_sgd_isEmpty() {
    BlockOptimizer opt = BlockOptimizer.create(spec(OptimizerKind.OPTIMIZER_SGD), 3);
    assertThat(opt.state()).isEmpty();
    threeSteps(opt);
    assertThat(opt.state()).isEmpty();
  }

  @Test
  void state_momentum_exposesLiveVelocity() {
    BlockOptimizer opt = BlockOptimizer.create(momentum(0.5f), 3);
    float[][] st = opt.state();
    assertThat(st).hasNumberOfRows(1);
    float[] x = X0.clone();
    opt.step(x, G1.clone(), LR);
    // v = 0.5·0 + g1: the array obtained before the step sees the update.
    assertThat(st[0]).containsExactly(G1);
    assertThat(opt.state()[0]).isSameAs(st[0]);

    // Writing into it is used by the next step: v ← 0.5·(2, 4, −6) + g2.
    st[0][0] = 2f;
    st[0][1] = 4f;
    st[0][2] = -6f;
    float[] y = {0f, 0f, 0f};
    opt.step(y, G2.clone(), 1f);
    assertThat(st[0]).containsExactly(0.75f, 2f, -1f);
    assertThat(y).containsExactly(-0.75f, -2f, 1f);
  }

  @Test
  void state_adagrad_exposesLiveSumOfSquares() {
    BlockOptimizer opt = BlockOptimizer.create(spec(OptimizerKind.OPTIMIZER_ADAGRAD), 3);
    float[][] st = opt.state();
    assertThat(st).hasNumberOfRows(1);
    opt.step(X0.clone(), G1.clone(), LR);
    assertThat(st[0]).containsExactly(0.25f, 1f, 0f);
    assertThat(opt.state()[0]).isSameAs(st[0]);

    // G ← (12, 0, 5) + g2² = (12.0625, 0, 9): step is g/√G.
    st[0][0] = 12f;
    st[0][1] = 0f;
    st[0][2] = 5f;
    float[] y = {0f, 0f, 0f};
    opt.step(y, G2.clone(), 1f);
    assertThat(st[0]).containsExactly(12.0625f, 0f, 9f);
    assertThat((double) y[0]).isCloseTo(0.25 / (Math.sqrt(12.0625) + 1e-8f), within(1e-7));
    assertThat(y[1]).isEqualTo(0f);
    assertThat((double) y[2]).isCloseTo(-2.0 / (3.0 + 1e-8f), within(1e-6));
  }

  @Test
  void state_adam_exposesLiveMomentsInOrderMThenV() {
    BlockOptimizer opt = BlockOptimizer.create(adam(0.8f, 0.99f, 1e-6f), 3);
    float[][] st = opt.state();
    assertThat(st).hasNumberOfRows(2);
    opt.step(X0.clone(), G1.clone(), LR);
    double a = 1 - (double) 0.8f;
    double b = 1 - (double) 0.99f;
    // m = (1−β1)·g, v = (1−β2)·g²: they differ, so the order is checked.
    assertClose("m", st[0], new double[] {a * 0.5, a * -1.0, 0.0});
    assertClose("v", st[1], new double[] {b * 0.25, b * 1.0, 0.0});
    assertThat(opt.state()[0]).isSameAs(st[0]);
    assertThat(opt.state()[1]).isSameAs(st[1]);
  }

  @ParameterizedTest
  @MethodSource("allSpecs")
  void state_writtenIntoFreshOptimizerWithSetSteps_restoresCheckpoint(OptimizerSpec s) {
    BlockOptimizer orig = BlockOptimizer.create(s, 3);
    float[] x = X0.clone();
    orig.step(x, G1.clone(), LR);
    orig.step(x, G2.clone(), LR);

    BlockOptimizer restored = BlockOptimizer.create(s, 3);
    float[][] src = orig.state();
    float[][] dst = restored.state();
    assertThat(dst.length).isEqualTo(src.length);
    for (int i = 0; i < src.length; i++) {
      System.arraycopy(src[i], 0, dst[i], 0, src[i].length);
    }
    restored.setSteps(orig.steps());

    float[] xr = x.clone();
    orig.step(x, G3.clone(), LR);
    restored.step(xr, G3.clone(), LR);
    assertThat(xr).as("%s x", s.getKind()).isEqualTo(x);
    assertThat(restored.state()).as("%s state", s.getKind()).isDeepEqualTo(orig.state());
    assertThat(restored.steps()).as("%s steps", s.getKind()).isEqualTo(3);
  }

  @ParameterizedTest
  @MethodSource("allSpecs")
  void setSteps_anyValue_roundTripsThroughSteps(OptimizerSpec s) {
    BlockOptimizer opt = BlockOptimizer.create(s, 3);
    assertThat(opt.steps()).as("%s fresh", s.getKind()).isZero();
    opt.setSteps(42);
    assertThat(opt.steps()).as("%s set", s.getKind()).isEqualTo(42);
    opt.step(X0.clone(), G1.clone(), LR);
    assertThat(opt.steps()).as("%s after step", s.getKind()).isEqualTo(43);
    opt.setSteps(0);
    assertThat(opt.steps()).as("%s zero", s.getKind()).isZero();
  }

  @Test
  void setSteps_adam_changesBiasCorrection() {
    // A fresh Adam with t set to 1000 has (almost) no bias correction: its first step is
    // η·(1−β1)·g/(√((1−β2)·g²/(1−β2^1001)) + ε), not η·sign(g).
    BlockOptimizer opt = BlockOptimizer.create(adam(0.8f, 0.99f, 1e-6f), 3);
    opt.setSteps(1000);
    float[] x = X0.clone();
    opt.step(x, G1.clone(), LR);

    double b1 = 0.8f;
    double b2 = 0.99f;
    double eps = 1e-6f;
    double[] ref = d(X0);
    adamRef(ref, new double[3], new double[3], d(G1), 1001, b1, b2, eps, LR);
    assertClose("x", x, ref);
    assertThat(opt.steps()).isEqualTo(1001);
  }

  @Test
  void create_unrecognizedKind_throws() {
    OptimizerSpec bad = OptimizerSpec.newBuilder().setKindValue(99).build();
    assertThatThrownBy(() -> BlockOptimizer.create(bad, 3))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
