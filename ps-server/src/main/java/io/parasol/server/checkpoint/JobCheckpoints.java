package io.parasol.server.checkpoint;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints of every job a shard holds, under one directory (the server's
 * {@code --checkpoint-dir}): the job named {@code default} where a single-job shard always
 * kept its files ({@code <dir>/shard-N.ckpt}, so older directories and tools keep working),
 * every other job in its own sub-directory {@code <dir>/jobs/<name>/shard-N.ckpt}. Each job's
 * files are written atomically by its own {@link Checkpoints}.
 *
 * <p>{@link #loadAll} finds every job: each sub-directory of {@code jobs/}, then the top-level
 * file, unless it holds a job already found in a sub-directory (a file an older version wrote
 * for a job that is now kept in its sub-directory, which is newer). Thread safety: as
 * {@link Checkpoints}; the server serialises writes and deletes.
 */
public final class JobCheckpoints {
  private static final Logger log = LoggerFactory.getLogger(JobCheckpoints.class);

  /** The job whose files stay at the top level. */
  public static final String TOP_LEVEL_JOB = "default";

  private final Path dir;
  private final int shard;
  private final Checkpoints top;

  /** The checkpoints of every job of shard {@code root.shard()} under {@code root.dir()}. */
  public JobCheckpoints(Checkpoints root) {
    this.dir = root.dir();
    this.shard = root.shard();
    this.top = root;
  }

  /** The directory holding every job's checkpoints. */
  public Path dir() {
    return dir;
  }

  /** Job {@code job}'s checkpoints. */
  public Checkpoints of(String job) {
    return job.equals(TOP_LEVEL_JOB) ? top
        : new Checkpoints(dir.resolve("jobs").resolve(job), shard);
  }

  /** The newest valid checkpoint of every job found. */
  public List<Checkpoints.Snapshot> loadAll() throws IOException {
    List<Checkpoints.Snapshot> out = new ArrayList<>();
    Set<String> found = new HashSet<>();
    Path jobs = dir.resolve("jobs");
    if (Files.isDirectory(jobs)) {
      List<Path> subs = new ArrayList<>();
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(jobs, Files::isDirectory)) {
        ds.forEach(subs::add);
      }
      subs.sort(null);
      for (Path sub : subs) {
        Checkpoints.Snapshot snap = new Checkpoints(sub, shard).load();
        if (snap != null && found.add(name(snap))) {
          out.add(snap);
        }
      }
    }
    Checkpoints.Snapshot legacy = top.load();
    if (legacy != null) {
      if (found.add(name(legacy))) {
        out.add(legacy);
      } else {
        log.info("shard {}: {} holds job '{}', which {} holds newer; not restored", shard,
            top.newest(), name(legacy), jobs);
      }
    }
    return out;
  }

  private static String name(Checkpoints.Snapshot s) {
    String n = s.spec().getJobName();
    return n.isEmpty() ? TOP_LEVEL_JOB : n;
  }

  /** Removes job {@code job}'s files (it ended), and its sub-directory when empty. */
  public void delete(String job) throws IOException {
    Checkpoints cp = of(job);
    cp.delete();
    if (!job.equals(TOP_LEVEL_JOB)) {
      try {
        Files.deleteIfExists(cp.dir());
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        // something else lives there; leave it
      }
      // An older version's top-level file of this job would bring it back at the next start.
      Checkpoints.Snapshot legacy = top.load();
      if (legacy != null && name(legacy).equals(job)) {
        top.delete();
      }
    }
  }
}
