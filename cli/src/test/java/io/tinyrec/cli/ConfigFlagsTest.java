package io.tinyrec.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tinyrec.model.ConfigException;
import io.tinyrec.model.ModelConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ConfigFlagsTest {
  @Test
  void modelErrorsNameFieldsAndTheCliRendersFlags() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ModelConfig.preset("kaggle").toBuilder().robeZ(5).build());
    assertFalse(e.getMessage().contains("--"), e.getMessage());
    assertEquals("robeZ must divide dim=16, got 5", e.getMessage());
    assertEquals("--robe-z must divide --dim=16, got 5", ConfigFlags.message(e));
    assertEquals("plain", ConfigFlags.message(new IllegalArgumentException("plain")));
    assertEquals("unmapped", ConfigFlags.flagOf("unmapped"));
  }

  @Test
  void everyMappedFlagIsAnOptionOfLearn() {
    CommandLine.Model.CommandSpec learn = Tinyrec.commandLine().getSubcommands().get("learn").getCommandSpec();
    for (String flag : ConfigFlags.FLAG_OF_FIELD.values()) {
      assertNotNull(learn.findOption(flag), flag + " is not an option of learn");
    }
  }
}
