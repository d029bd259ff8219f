package jobpulse.spark;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.metadata.Metadata;
import com.datastax.spark.connector.cql.CassandraConnectionFactory;
import com.datastax.spark.connector.cql.CassandraConnectorConf;
import com.datastax.spark.connector.cql.DefaultConnectionFactory$;
import com.datastax.spark.connector.cql.Scanner;
import com.datastax.spark.connector.rdd.ReadConf;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.IndexedSeq;

/**
 * The Cassandra connector's sessions, as its default factory makes them, made to survive the Java driver's
 * schema-refresh jam.
 *
 * <p>In driver 4.18 (MetadataManager.startSchemaRequest) a schema refresh that fails, as one does while the
 * control connection is down (Cassandra restarting, or unreachable for a moment), never clears the refresh in
 * progress: every later refresh of that session waits forever (scylladb/java-driver#343 and #841, the same
 * code). The connector refreshes the schema each time a query loads a Cassandra table, so one query during a
 * Cassandra outage left the Spark application unable to read Cassandra again until it was restarted.
 *
 * <p>The session handed out here is a proxy whose {@code refreshSchema()} waits at most
 * {@code jobpulse.cassandra.schemaRefreshTimeoutSeconds} (a system property, 30 s by default). When a refresh
 * fails or times out, the session is replaced with a new one (the old one is closed a while later, so that reads
 * in flight on it finish) and the refresh made on that. While Cassandra stays unreachable the replacement fails
 * at once with the driver's own error; nothing waits forever.
 *
 * <p>The driver's own refreshes, on the schema-change events Cassandra pushes, jam the same way, and then its
 * metadata never changes again: the connector's catalog, which looks tables up in it without a refresh, no
 * longer finds a table made after that (a new namespace's, in the chaos soak). So {@code getMetadata()} first
 * refreshes through the proxy, at most once every {@code jobpulse.cassandra.metadataCheckSeconds} (10 s by
 * default): a jammed session is found out and replaced there too. Should that refresh fail, the caller gets
 * the metadata the session has, as it would without the proxy.
 */
public final class SessionRenewingConnectionFactory implements CassandraConnectionFactory {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SessionRenewingConnectionFactory.class);
  static final long REFRESH_TIMEOUT_SECONDS = Long.getLong("jobpulse.cassandra.schemaRefreshTimeoutSeconds", 30);
  static final long METADATA_CHECK_NANOS =
      TimeUnit.SECONDS.toNanos(Long.getLong("jobpulse.cassandra.metadataCheckSeconds", 10));
  static final long RETIRED_SESSION_GRACE_SECONDS = 120;
  private static final ScheduledExecutorService CLOSER =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "jobpulse-retired-cassandra-sessions");
            thread.setDaemon(true);
            return thread;
          });

  @Override
  public CqlSession createSession(CassandraConnectorConf conf) {
    RenewingSession handler = new RenewingSession(conf, DefaultConnectionFactory$.MODULE$.createSession(conf));
    return (CqlSession)
        Proxy.newProxyInstance(CqlSession.class.getClassLoader(), new Class<?>[] {CqlSession.class}, handler);
  }

  @Override
  public Scanner getScanner(ReadConf readConf, CassandraConnectorConf connConf, IndexedSeq<String> columnNames) {
    return DefaultConnectionFactory$.MODULE$.getScanner(readConf, connConf, columnNames);
  }

  @Override
  public scala.collection.immutable.Set<String> properties() {
    return DefaultConnectionFactory$.MODULE$.properties();
  }

  /** Forwards every call to the current session, except the schema refresh. */
  private static final class RenewingSession implements InvocationHandler {
    private final CassandraConnectorConf conf;
    private volatile CqlSession current;
    private boolean renewalDue; // guarded by this
    private volatile long checkedAt = System.nanoTime(); // a new session has loaded the whole schema

    RenewingSession(CassandraConnectorConf conf, CqlSession first) {
      this.conf = conf;
      this.current = first;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        // the connector's session cache keys on the session: the proxy's identity, whichever session it holds
        switch (method.getName()) {
          case "equals":
            return proxy == args[0];
          case "hashCode":
            return System.identityHashCode(proxy);
          case "toString":
            return "SessionRenewingConnectionFactory session over " + current;
          default:
            break;
        }
      }
      if (method.getName().equals("refreshSchema") && method.getParameterCount() == 0) {
        return refreshSchema();
      }
      if (method.getName().equals("getMetadata") && method.getParameterCount() == 0) {
        return checkedMetadata();
      }
      try {
        return method.invoke(current, args);
      } catch (InvocationTargetException failure) {
        throw failure.getCause();
      }
    }

    private Metadata checkedMetadata() {
      if (System.nanoTime() - checkedAt < METADATA_CHECK_NANOS) {
        return current.getMetadata();
      }
      synchronized (this) {
        if (System.nanoTime() - checkedAt < METADATA_CHECK_NANOS) {
          return current.getMetadata(); // another caller checked meanwhile
        }
        checkedAt = System.nanoTime(); // one check per interval, whatever it finds
        try {
          return refreshSchema();
        } catch (RuntimeException failure) {
          LOG.warn("could not check the Cassandra schema ({}): the session's metadata as it is", failure.toString());
          return current.getMetadata();
        }
      }
    }

    private synchronized Metadata refreshSchema() {
      if (!renewalDue) {
        try {
          Metadata metadata = refreshed(current);
          checkedAt = System.nanoTime();
          return metadata;
        } catch (RuntimeException failure) {
          renewalDue = true;
          LOG.warn("Cassandra schema refresh failed ({}): the session will be replaced", failure.toString());
        }
      }
      CqlSession fresh = DefaultConnectionFactory$.MODULE$.createSession(conf); // throws while unreachable
      CqlSession retired = current;
      current = fresh;
      renewalDue = false;
      CLOSER.schedule(retired::closeAsync, RETIRED_SESSION_GRACE_SECONDS, TimeUnit.SECONDS);
      LOG.warn("replaced the Cassandra session {} after a failed schema refresh", retired.getName());
      checkedAt = System.nanoTime(); // a new session has loaded the whole schema
      try {
        return refreshed(fresh);
      } catch (RuntimeException failure) {
        renewalDue = true;
        throw failure;
      }
    }

    private static Metadata refreshed(CqlSession session) {
      try {
        return session.refreshSchemaAsync().toCompletableFuture().get(REFRESH_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException stuck) {
        throw new IllegalStateException(
            "the Cassandra schema refresh did not complete in " + REFRESH_TIMEOUT_SECONDS + " s", stuck);
      } catch (ExecutionException failed) {
        Throwable cause = failed.getCause();
        throw cause instanceof RuntimeException ? (RuntimeException) cause : new IllegalStateException(cause);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while refreshing the Cassandra schema", interrupted);
      }
    }
  }
}
