package io.parasol.common;

import com.google.protobuf.WireFormat;
import io.parasol.proto.v1.BlockChunk;
import io.parasol.proto.v1.ValueEncoding;
import java.nio.ByteBuffer;

/**
 * A {@link BlockChunk} as received: where its values go, and the values themselves still in the
 * transport's receive buffers ({@link ChunkValues}).
 *
 * @param blockId the block
 * @param offset offset in the block, in values
 * @param encodingNumber the wire encoding's number as sent (see {@link #encoding()})
 * @param values the value bytes, valid until the message that carried them is released
 */
public record ReceivedChunk(int blockId, int offset, int encodingNumber, ChunkValues values) {

  /** The encoding, or {@link ValueEncoding#UNRECOGNIZED} for a number this build does not know. */
  public ValueEncoding encoding() {
    ValueEncoding e = ValueEncoding.forNumber(encodingNumber);
    return e == null ? ValueEncoding.UNRECOGNIZED : e;
  }

  /** A chunk built in memory from its message (tests, in-process use). */
  public static ReceivedChunk of(BlockChunk c) {
    return new ReceivedChunk(c.getBlockId(), c.getOffset(), c.getEncodingValue(),
        ChunkValues.of(c.getValues()));
  }

  /** The equivalent message (copies the values). */
  public BlockChunk toProto() {
    return BlockChunk.newBuilder().setBlockId(blockId).setOffset(offset)
        .setEncodingValue(encodingNumber).setValues(values.toByteString()).build();
  }

  private static final int BLOCK_ID = WireReader.tag(BlockChunk.BLOCK_ID_FIELD_NUMBER,
      WireFormat.WIRETYPE_VARINT);
  private static final int OFFSET = WireReader.tag(BlockChunk.OFFSET_FIELD_NUMBER,
      WireFormat.WIRETYPE_VARINT);
  private static final int VALUES = WireReader.tag(BlockChunk.VALUES_FIELD_NUMBER,
      WireFormat.WIRETYPE_LENGTH_DELIMITED);
  private static final int ENCODING = WireReader.tag(BlockChunk.ENCODING_FIELD_NUMBER,
      WireFormat.WIRETYPE_VARINT);

  /** Parses a BlockChunk that ends at {@code end}, as protobuf would (last value wins). */
  static ReceivedChunk parse(WireReader r, long end) throws WireReader.Malformed {
    int blockId = 0;
    int offset = 0;
    int encoding = 0;
    ChunkValues values = new ChunkValues(new ByteBuffer[0], 0, 0, 0);
    while (r.position() < end) {
      int tag = r.readTag();
      if (tag == BLOCK_ID) {
        blockId = r.readVarint32();
      } else if (tag == OFFSET) {
        offset = r.readVarint32();
      } else if (tag == VALUES) {
        values = r.slices(r.readLength(end));
      } else if (tag == ENCODING) {
        encoding = r.readVarint32();
      } else {
        r.skipField(tag, end);
      }
      if (r.position() > end) {
        throw new WireReader.Malformed("a field of the chunk runs past the chunk's end");
      }
    }
    return new ReceivedChunk(blockId, offset, encoding, values);
  }
}
