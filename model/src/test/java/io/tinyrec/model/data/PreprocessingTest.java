package io.tinyrec.model.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PreprocessingTest {
  @Test
  void theLogTransformShouldGiveTheBitsOfItsDefinitionInsideAndOutsideTheTable() {
    int[] edges = {Integer.MIN_VALUE, -5, -1, 0, 1, 2, 4094, 4095, 4096, 4097, 100_000, Integer.MAX_VALUE};
    for (int x : edges) {
      assertEquals(Float.floatToIntBits((float) Math.log1p(Math.max(x, 0))),
          Float.floatToIntBits(Preprocessing.logTransform(x)), "x = " + x);
    }
    for (int x = 0; x < 10_000; x++) {
      assertEquals(Float.floatToIntBits(Preprocessing.exactLogTransform(x)),
          Float.floatToIntBits(Preprocessing.logTransform(x)), "x = " + x);
    }
  }

  @Test
  void aMissingDenseFieldShouldBeZeroAndAMissingCategoryOutsideEvery32BitValue() {
    assertEquals(0f, Preprocessing.denseFeature(123, true));
    assertEquals(Preprocessing.logTransform(123), Preprocessing.denseFeature(123, false));
    assertEquals(CriteoRow.MISSING_CATEGORY, Preprocessing.categoryValue(7, true));
    assertEquals(0xFFFF_FFFFL, Preprocessing.categoryValue(-1, false));
  }
}
