package io.parasol.server;

import com.google.protobuf.ByteString;
import io.parasol.common.FloatCodec;
import io.parasol.common.JobSpecs;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.BlockRead;
import io.parasol.proto.v1.BlockSpec;
import io.parasol.proto.v1.InitKind;
import io.parasol.proto.v1.JobSpec;
import io.parasol.proto.v1.Mode;
import io.parasol.proto.v1.PushHeader;
import io.parasol.proto.v1.PushKind;
import io.parasol.proto.v1.PushMessage;

/** Small job specs and pushes for shard tests. */
final class Specs {
  private Specs() {}

  /** One shard, blocks of the given lengths, uniform init so values are not all zero. */
  static JobSpec.Builder spec(Mode mode, int workers, float lr, int... lengths) {
    JobSpec.Builder b = JobSpec.newBuilder().setJobName("test").setMode(mode).setNumShards(1)
        .setNumWorkers(workers).setLearningRate(lr).setSeed(7);
    for (int i = 0; i < lengths.length; i++) {
      b.addBlocks(BlockSpec.newBuilder().setId(i).setName("b" + i).setLength(lengths[i])
          .setShard(0).setInit(InitKind.INIT_UNIFORM).setInitScale(1f));
    }
    return b;
  }

  /** A waiting pull's {@code onEnded} for tests whose job never ends while a pull waits. */
  static void neverEnds(io.parasol.server.core.ShardException e) {
    throw new AssertionError("the job ended while a pull waited: " + e.getMessage());
  }

  static String fp(JobSpec spec) {
    return JobSpecs.fingerprint(spec);
  }

  static PushHeader header(JobSpec spec, int worker, long seq, long step, PushKind kind,
      int block, long versionRead) {
    return PushHeader.newBuilder().setFingerprint(fp(spec)).setWorker(worker).setSequence(seq)
        .setStep(step).setKind(kind)
        .addBlocks(BlockRead.newBuilder().setBlockId(block).setVersion(versionRead)).build();
  }

  static PushMessage headerMsg(PushHeader h) {
    return PushMessage.newBuilder().setHeader(h).build();
  }

  static PushMessage chunkMsg(int block, int offset, float... values) {
    return chunkMsg(block, offset, FloatCodec.encode(values));
  }

  static PushMessage chunkMsg(int block, int offset, ByteString bytes) {
    return PushMessage.newBuilder().setChunk(BlockChunk.newBuilder().setBlockId(block)
        .setOffset(offset).setValues(bytes)).build();
  }
}
