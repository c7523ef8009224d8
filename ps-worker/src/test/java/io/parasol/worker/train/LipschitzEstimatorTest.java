package io.parasol.worker.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.parasol.common.BlockLayout;
import io.parasol.proto.v1.InitKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The L_ij estimate against quadratics f = ½ xᵀAx, whose ∇_i f = Σ_j A_ij x^j has block
 * Lipschitz constants L_ij = ‖A_ij‖₂ known in closed form.
 */
class LipschitzEstimatorTest {

  private static BlockLayout layout(int blocks, int blockSize) {
    List<BlockLayout.Tensor> ts = new ArrayList<>();
    for (int b = 0; b < blocks; b++) {
      ts.add(new BlockLayout.Tensor("t" + b, blockSize, InitKind.INIT_ZEROS, 0f));
    }
    return BlockLayout.of(ts, 1, blockSize);
  }

  /** ∇f = A x for a dense symmetric A of size d. */
  private static LipschitzEstimator.Gradient quadratic(double[][] a) {
    return (x, g) -> {
      for (int r = 0; r < a.length; r++) {
        double s = 0;
        for (int c = 0; c < a.length; c++) {
          s += a[r][c] * x[c];
        }
        g[r] = (float) s;
      }
    };
  }

  @Test
  void scalarBlocks_giveTheCouplingsExactly() {
    double[][] a = {
        {2.0, 0.5, -3.0},
        {0.5, 1.0, 0.0},
        {-3.0, 0.0, 4.0}};
    LipschitzEstimator est = new LipschitzEstimator(layout(3, 1), 1e-2, 7);
    float[] x = {0.3f, -1.2f, 2.5f};
    float[] g = new float[3];
    quadratic(a).at(x, g);
    for (int probe = 0; probe < 3; probe++) {
      est.probe(x, g, quadratic(a));
    }
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        if (i == j) {
          assertThat(est.get(i, j)).isNaN();
        } else {
          assertThat(est.get(i, j)).as("L_%d%d", i, j)
              .isCloseTo(Math.abs(a[i][j]), within(1e-3 * (1 + Math.abs(a[i][j]))));
        }
      }
    }
  }

  @Test
  void scaledIdentityBlocks_giveTheScaleExactlyAndGeneralBlocksStayBelowTheNorm() {
    // Two blocks of 3 coordinates: A_01 = A_10 = 1.5·I, diagonal blocks 2·I.
    int n = 3;
    double[][] a = new double[2 * n][2 * n];
    for (int k = 0; k < n; k++) {
      a[k][k] = 2;
      a[n + k][n + k] = 2;
      a[k][n + k] = 1.5;
      a[n + k][k] = 1.5;
    }
    LipschitzEstimator est = new LipschitzEstimator(layout(2, n), 1e-2, 11);
    float[] x = new float[2 * n];
    float[] g = new float[2 * n];
    for (int probe = 0; probe < 4; probe++) {
      est.probe(x, g, quadratic(a));
    }
    assertThat(est.get(0, 1)).isCloseTo(1.5, within(1e-3));
    assertThat(est.get(1, 0)).isCloseTo(1.5, within(1e-3));

    // A general coupling block B (A_01 = B, A_10 = Bᵀ): every estimate is ‖B u‖ for a unit u,
    // so at most ‖B‖₂ ≤ ‖B‖_F, and after many probes close to ‖B‖₂ from below.
    double[][] b = {{1, 2, 0}, {0, 1, 0}, {0, 0, 0.5}};
    double[][] a2 = new double[2 * n][2 * n];
    double frob = 0;
    for (int r = 0; r < n; r++) {
      a2[r][r] = 1;
      a2[n + r][n + r] = 1;
      for (int c = 0; c < n; c++) {
        a2[r][n + c] = b[r][c];
        a2[n + c][r] = b[r][c];
        frob += b[r][c] * b[r][c];
      }
    }
    // ‖B‖₂ = sqrt(largest eigenvalue of BᵀB) = 1 + √2 for this B.
    double spectral = 1 + Math.sqrt(2);
    LipschitzEstimator est2 = new LipschitzEstimator(layout(2, n), 1e-2, 13);
    for (int probe = 0; probe < 400; probe++) {
      est2.probe(x, g, quadratic(a2));
    }
    assertThat(est2.get(0, 1)).isLessThanOrEqualTo(spectral * (1 + 1e-3))
        .isLessThan(Math.sqrt(frob)).isGreaterThan(0.9 * spectral);
    assertThat(est2.get(1, 0)).isLessThanOrEqualTo(spectral * (1 + 1e-3))
        .isGreaterThan(0.9 * spectral);
  }
}
