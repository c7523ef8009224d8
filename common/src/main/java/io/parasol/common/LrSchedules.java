package io.parasol.common;

import io.parasol.proto.v1.LrSchedule;
import io.parasol.proto.v1.LrScheduleKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Step-size schedules ({@link LrSchedule}): the factor by which a block's step size η_i is
 * multiplied at a given point of the run, and the command-line form of a schedule.
 *
 * <p>The factor is a function of progress p = min(1, ν / T) alone, ν the block's version (its
 * updates so far) and T the schedule's horizon (the updates the block is expected to take over
 * the run). Every shard computes it from the version it applies an update at, so the rule is
 * the same in every mode and after a restart from a checkpoint (the version is checkpointed);
 * a local-update worker computes it from its round and local step, the same way.
 *
 * <ul>
 *   <li>{@code constant}: 1.
 *   <li>{@code cosine[:F]}: F + (1 − F)·(1 + cos(π·p))/2, from 1 down to F (default 0) at the
 *       end of the run (Loshchilov and Hutter, "SGDR", ICLR 2017, without restarts).
 *   <li>{@code step:P1[,P2...]:FACTOR}: FACTOR^k, k the number of milestones P_j ≤ p, each a
 *       fraction of the run in (0, 1] (step decay; e.g. {@code step:0.5:0.1} divides η by 10
 *       for the second half of the run).
 * </ul>
 *
 * <p>Thread safety: stateless.
 */
public final class LrSchedules {
  /** The most milestones a step schedule may have. */
  public static final int MAX_MILESTONES = 16;

  private LrSchedules() {}

  /**
   * The factor of η at version {@code version} (may be fractional: a local-update worker's
   * round plus its local steps over τ). An unset or constant schedule gives 1.
   */
  public static double factor(LrSchedule s, double version) {
    if (s.getKind() == LrScheduleKind.LR_SCHEDULE_CONSTANT || s.getHorizon() == 0) {
      return 1;
    }
    double p = Math.min(1, Math.max(0, version / (double) s.getHorizon()));
    return switch (s.getKind()) {
      case LR_SCHEDULE_COSINE -> {
        double f = s.getFinalFraction();
        yield f + (1 - f) * 0.5 * (1 + Math.cos(Math.PI * p));
      }
      case LR_SCHEDULE_STEP -> {
        double out = 1;
        // Compared in float, the milestones' precision: p = 12/15 reaches milestone 0.8, which
        // as a float is slightly above the double 0.8.
        float pf = (float) p;
        for (float m : s.getMilestonesList()) {
          if (pf >= m) {
            out *= s.getFactor();
          }
        }
        yield out;
      }
      default -> 1;
    };
  }

  /** The step size η·factor at {@code version}, as a float. */
  public static float at(LrSchedule s, float lr, long version) {
    return s.getKind() == LrScheduleKind.LR_SCHEDULE_CONSTANT ? lr
        : (float) (lr * factor(s, version));
  }

  /**
   * Parses {@code constant}, {@code cosine}, {@code cosine:F} or
   * {@code step:P1[,P2...]:FACTOR} into a schedule without a horizon; IllegalArgumentException
   * naming {@code flag} on anything else.
   */
  public static LrSchedule parse(String text, String flag) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    String[] parts = t.split(":", -1);
    LrSchedule.Builder b = LrSchedule.newBuilder();
    switch (parts[0]) {
      case "constant" -> {
        if (parts.length != 1) {
          throw bad(flag, text, "constant takes no parameters");
        }
        return b.build();
      }
      case "cosine" -> {
        if (parts.length > 2) {
          throw bad(flag, text, "cosine takes at most one parameter, the final fraction");
        }
        float f = parts.length == 2 ? number(flag, text, parts[1]) : 0;
        if (!(f >= 0 && f < 1)) {
          throw bad(flag, text, "the final fraction must be in [0, 1)");
        }
        return b.setKind(LrScheduleKind.LR_SCHEDULE_COSINE).setFinalFraction(f).build();
      }
      case "step" -> {
        if (parts.length != 3) {
          throw bad(flag, text, "expected step:P1[,P2...]:FACTOR");
        }
        List<Float> ms = new ArrayList<>();
        for (String m : parts[1].split(",", -1)) {
          ms.add(number(flag, text, m));
        }
        float factor = number(flag, text, parts[2]);
        b.setKind(LrScheduleKind.LR_SCHEDULE_STEP).addAllMilestones(ms).setFactor(factor);
        List<String> p = stepProblems(b.build());
        if (!p.isEmpty()) {
          throw bad(flag, text, p.get(0));
        }
        return b.build();
      }
      default -> throw bad(flag, text, "expected constant, cosine[:F] or step:P1[,P2...]:FACTOR");
    }
  }

  /** The command-line form of {@code s} (its horizon left out). */
  public static String format(LrSchedule s) {
    return switch (s.getKind()) {
      case LR_SCHEDULE_COSINE -> s.getFinalFraction() == 0 ? "cosine"
          : "cosine:" + s.getFinalFraction();
      case LR_SCHEDULE_STEP -> {
        StringBuilder sb = new StringBuilder("step:");
        for (int i = 0; i < s.getMilestonesCount(); i++) {
          sb.append(i == 0 ? "" : ",").append(s.getMilestones(i));
        }
        yield sb.append(':').append(s.getFactor()).toString();
      }
      default -> "constant";
    };
  }

  /** Every problem with {@code s}, as sentences (for {@link JobSpecs#problems}). */
  public static List<String> problems(LrSchedule s) {
    List<String> p = new ArrayList<>();
    switch (s.getKind()) {
      case LR_SCHEDULE_CONSTANT -> { }
      case LR_SCHEDULE_COSINE -> {
        float f = s.getFinalFraction();
        if (!(f >= 0 && f < 1)) {
          p.add("lr_schedule final_fraction must be in [0, 1), got " + f);
        }
      }
      case LR_SCHEDULE_STEP -> p.addAll(stepProblems(s));
      default -> p.add("lr_schedule kind is unknown");
    }
    if (s.getKind() != LrScheduleKind.LR_SCHEDULE_CONSTANT && s.getHorizon() == 0) {
      p.add("lr_schedule needs a horizon of at least 1 update");
    }
    return p;
  }

  private static List<String> stepProblems(LrSchedule s) {
    List<String> p = new ArrayList<>();
    if (s.getMilestonesCount() == 0 || s.getMilestonesCount() > MAX_MILESTONES) {
      p.add("a step schedule needs 1.." + MAX_MILESTONES + " milestones, got "
          + s.getMilestonesCount());
    }
    float last = 0;
    for (float m : s.getMilestonesList()) {
      if (!(m > last && m <= 1)) {
        p.add("step milestones must be ascending fractions of the run in (0, 1], got " + m);
        break;
      }
      last = m;
    }
    if (!(s.getFactor() > 0 && s.getFactor() <= 1)) {
      p.add("the step factor must be in (0, 1], got " + s.getFactor());
    }
    return p;
  }

  private static float number(String flag, String text, String s) {
    try {
      float v = Float.parseFloat(s.trim());
      if (Float.isFinite(v)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw bad(flag, text, "'" + s.trim() + "' is not a number");
  }

  private static IllegalArgumentException bad(String flag, String text, String why) {
    return new IllegalArgumentException(flag + " '" + text + "': " + why);
  }
}
