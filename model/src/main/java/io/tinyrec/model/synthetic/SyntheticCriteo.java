package io.tinyrec.model.synthetic;

import io.tinyrec.model.data.CriteoRow;
import io.tinyrec.model.data.Preprocessing;

/**
 * A Criteo-like stream drawn from a hidden planted model, so learning tests know the best
 * achievable result. Row i depends only on (seed, i), so any slice can be regenerated.
 *
 * <p>Features: 13 heavy-tailed integer counts and 26 categorical features whose values follow a
 * Zipf power law over Criteo-like cardinalities (the Kaggle table sizes, capped at 2M), each with
 * the missing rates of the Kaggle head. Category ranks are mapped to 32-bit values by a seeded hash.
 *
 * <p>Labels: Bernoulli(sigmoid(teacher logit)). The teacher is nonlinear with interactions:
 * logit = b0 + sum_t w_t(v_t) + 1.2 tanh(sum_i a_i x_i) + sum_i c_i x_i
 *         + 0.2 sum over 12 planted feature pairs of &lt;e_t(v_t), e_u(v_u)&gt;,
 * with per-value weights w and 4-dimensional latent vectors e drawn from the seed. b0 is fitted so
 * the click rate is near 0.25. With drift, rows from {@code driftAt} on use a second teacher
 * whose categorical weights, latent vectors and pairs are re-drawn. Thread-safe (immutable).
 */
public final class SyntheticCriteo {
  private static final int LATENT = 4;
  private static final int PAIRS = 12;
  /** Kaggle table sizes capped at 2M, the cardinality of each categorical feature. */
  private static final long[] CARD = {1460, 583, 2_000_000, 2_000_000, 305, 24, 12517, 633, 3, 93145, 5683, 2_000_000,
      3194, 27, 14992, 2_000_000, 10, 5652, 2173, 4, 2_000_000, 18, 15, 286181, 105, 142572};
  /** Missing rates of C1..C26 in the Kaggle head. */
  private static final double[] CAT_MISSING = {0.0, 0.0, 0.036, 0.036, 0.0, 0.133, 0.0, 0.0, 0.0, 0.0, 0.0, 0.036,
      0.0, 0.0, 0.0, 0.036, 0.0, 0.0, 0.45, 0.45, 0.036, 0.818, 0.0, 0.036, 0.45, 0.45};
  /** Missing rates of I1..I13 in the Kaggle head. */
  private static final double[] DENSE_MISSING = {0.448, 0.0, 0.204, 0.198, 0.049, 0.251, 0.049, 0.001, 0.049, 0.448,
      0.049, 0.773, 0.198};

  private final long seed;
  private final long driftAt;
  private final double[] zipfS = new double[26];
  private final double[] denseMu = new double[13];
  private final double[] denseSigma = new double[13];
  private final Teacher before;
  private final Teacher after;

  /** @param driftAt first row of the second teacher, or a negative number for no drift */
  public SyntheticCriteo(long seed, long driftAt) {
    this.seed = seed;
    this.driftAt = driftAt;
    long s = mix(seed, 0x5EED);
    for (int t = 0; t < 26; t++) {
      zipfS[t] = 1.05 + 0.35 * unit(mix(s, 100 + t));
    }
    for (int i = 0; i < 13; i++) {
      denseMu[i] = 0.5 + 4.0 * unit(mix(s, 200 + i));
      denseSigma[i] = 0.6 + 1.2 * unit(mix(s, 300 + i));
    }
    this.before = new Teacher(mix(seed, 1));
    this.after = driftAt >= 0 ? new Teacher(mix(seed, 2)) : before;
    fitBias(before);
    if (after != before) {
      fitBias(after);
    }
  }

  /** One generated row with its true click probability. */
  public record Sample(CriteoRow row, double probability) {}

  /** Row i (0-based) of the stream. */
  public Sample sample(long i) {
    Draw d = draw(i);
    Teacher teacher = driftAt >= 0 && i >= driftAt ? after : before;
    double p = sigmoid(teacher.logit(d.dense, d.denseMissing, d.ranks));
    int label = unit(mix(d.labelKey, 0xABE1)) < p ? 1 : 0;
    return new Sample(new CriteoRow(label, d.dense, d.denseMissing, d.cats, d.catMissing), p);
  }

  /** The features of row i: raw counts, category ranks and their 32-bit values. */
  private record Draw(int[] dense, int denseMissing, long[] ranks, int[] cats, int catMissing, long labelKey) {}

  private Draw draw(long i) {
    long r = mix(seed, 0x10000 + i);
    int[] dense = new int[13];
    int denseMissing = 0;
    for (int f = 0; f < 13; f++) {
      r = mix(r, f);
      if (unit(r) < DENSE_MISSING[f]) {
        denseMissing |= 1 << f;
        continue;
      }
      double z = gaussian(mix(r, 77));
      long v = (long) Math.floor(Math.exp(denseMu[f] + denseSigma[f] * z)) - 1;
      if (f == 1 && unit(mix(r, 78)) < 0.1) {
        v = -1; // I2 has small negative values in the real logs
      }
      dense[f] = (int) Math.min(v, Integer.MAX_VALUE);
    }
    long[] ranks = new long[26];
    int[] cats = new int[26];
    int catMissing = 0;
    for (int t = 0; t < 26; t++) {
      r = mix(r, 1000 + t);
      if (unit(r) < CAT_MISSING[t]) {
        catMissing |= 1 << t;
        ranks[t] = -1;
        continue;
      }
      ranks[t] = zipf(unit(mix(r, 5)), CARD[t], zipfS[t]);
      cats[t] = (int) mix(seed ^ 0xCA7L, t * 0x100000000L + ranks[t]);
    }
    return new Draw(dense, denseMissing, ranks, cats, catMissing, r);
  }

  /** Fits the teacher's intercept so the mean click probability over a sample is 0.25. */
  private void fitBias(Teacher t) {
    int n = 4000;
    double[] logits = new double[n];
    for (int k = 0; k < n; k++) {
      Draw d = draw(k);
      logits[k] = t.logit(d.dense, d.denseMissing, d.ranks);
    }
    double lo = -10;
    double hi = 10;
    for (int it = 0; it < 60; it++) {
      double mid = (lo + hi) / 2;
      double mean = 0;
      for (double z : logits) {
        mean += sigmoid(z + mid);
      }
      if (mean / n < 0.25) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    t.bias = (lo + hi) / 2;
  }

  /** The planted model: immutable after its bias is fitted at construction. */
  private static final class Teacher {
    final long key;
    final double[] featScale = new double[26];
    final double[] denseA = new double[13];
    final double[] denseC = new double[13];
    final int[][] pairs = new int[PAIRS][2];
    double bias;

    Teacher(long key) {
      this.key = key;
      for (int t = 0; t < 26; t++) {
        double u = unit(mix(key, 10 + t));
        featScale[t] = u < 0.2 ? 0.0 : 0.05 + 0.35 * u; // a fifth of the features carry no signal
      }
      for (int i = 0; i < 13; i++) {
        denseA[i] = 0.5 * gaussian(mix(key, 40 + i));
        denseC[i] = 0.08 * gaussian(mix(key, 60 + i));
      }
      for (int p = 0; p < PAIRS; p++) {
        int a = (int) (unit(mix(key, 80 + p)) * 26);
        int b = (int) (unit(mix(key, 120 + p)) * 25);
        pairs[p][0] = a;
        pairs[p][1] = b >= a ? b + 1 : b;
      }
    }

    double logit(int[] dense, int denseMissing, long[] ranks) {
      double z = bias;
      double lin = 0;
      double act = 0;
      for (int i = 0; i < 13; i++) {
        double x = (denseMissing >>> i & 1) != 0 ? 0 : Preprocessing.logTransform(dense[i]);
        act += denseA[i] * (x - 2.0) * 0.5;
        lin += denseC[i] * x;
      }
      z += 1.2 * Math.tanh(act) + lin;
      for (int t = 0; t < 26; t++) {
        if (featScale[t] != 0) {
          z += featScale[t] * gaussian(mix(key, (t + 1) * 0x1_0000_0000L + ranks[t] + 1));
        }
      }
      for (int[] pr : pairs) {
        double dot = 0;
        for (int k = 0; k < LATENT; k++) {
          dot += latent(pr[0], ranks[pr[0]], k) * latent(pr[1], ranks[pr[1]], k);
        }
        z += 0.2 * dot;
      }
      return z;
    }

    double latent(int t, long rank, int k) {
      return gaussian(mix(key ^ 0x1A7E47L, ((t + 1) * 0x1_0000_0000L + rank + 1) * 8 + k));
    }
  }

  /** Zipf(s) rank in [0, n) by inverse transform of the continuous approximation. */
  static long zipf(double u, long n, double s) {
    double a = 1 - s;
    double x = Math.pow(u * (Math.pow(n + 1.0, a) - 1) + 1, 1 / a);
    return Math.min(n - 1, Math.max(0, (long) x - 1));
  }

  static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  /** SplitMix64 finaliser of (a, b): a good 64-bit hash, used for every draw. */
  static long mix(long a, long b) {
    long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in [0, 1) from a hash. */
  static double unit(long h) {
    return (h >>> 11) * 0x1.0p-53;
  }

  /** Standard normal from a hash (Box-Muller on two derived uniforms). */
  static double gaussian(long h) {
    double u1 = unit(mix(h, 1)) + 0x1.0p-54;
    double u2 = unit(mix(h, 2));
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
