package io.tinyrec.model.data;

/**
 * The feature transforms shared by training and serving. Any change here changes every model's
 * meaning, so the snapshot format document (docs/snapshot-format.md) spells out each one.
 */
public final class Preprocessing {
  private Preprocessing() {}

  /** Dense transform: log(1 + max(x, 0)), computed in double and rounded once to float. */
  public static float logTransform(int x) {
    return (float) Math.log1p(Math.max(x, 0));
  }
}
