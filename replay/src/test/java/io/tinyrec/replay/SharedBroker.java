package io.tinyrec.replay;

import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One LocalKafkaBroker for every integration test class that asks for it, started on first use and
 * closed when the test run ends: a broker start costs a few seconds, so classes share one.
 */
final class SharedBroker implements ParameterResolver {
  private static final class Resource implements ExtensionContext.Store.CloseableResource, AutoCloseable {
    final LocalKafkaBroker broker = LocalKafkaBroker.start(0, null, Map.of());

    @Override
    public void close() {
      broker.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
    return p.getParameter().getType() == LocalKafkaBroker.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext c) {
    return c.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(Resource.class, k -> new Resource(), Resource.class).broker;
  }
}
