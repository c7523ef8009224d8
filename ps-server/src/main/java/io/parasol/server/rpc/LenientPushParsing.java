package io.parasol.server.rpc;

import com.google.protobuf.UnknownFieldSet;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.parasol.proto.v1.PushMessage;
import io.parasol.proto.v1.ShardGrpc;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Push messages that do not parse reach the service as a marker message it refuses with
 * INVALID_ARGUMENT, instead of grpc-java closing the call with UNKNOWN. Every other method and
 * the wire format are unchanged.
 */
public final class LenientPushParsing {
  /** An unknown field number no PushMessage uses: its presence marks an unparseable message. */
  static final int MARKER_FIELD = 536_870_000;

  private static final PushMessage UNPARSEABLE = PushMessage.newBuilder()
      .setUnknownFields(UnknownFieldSet.newBuilder()
          .addField(MARKER_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(1).build())
          .build())
      .build();

  private LenientPushParsing() {}

  static boolean isUnparseable(PushMessage m) {
    return m.getUnknownFields().hasField(MARKER_FIELD);
  }

  /** {@code def} with the Push method's request parser made lenient. */
  public static ServerServiceDefinition wrap(ServerServiceDefinition def) {
    ServiceDescriptor sd = def.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(sd.getName())
        .setSchemaDescriptor(sd.getSchemaDescriptor());
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
      ServerMethodDefinition<?, ?> out = m;
      if (m.getMethodDescriptor().getFullMethodName()
          .equals(ShardGrpc.getPushMethod().getFullMethodName())) {
        @SuppressWarnings("unchecked")
        ServerMethodDefinition<PushMessage, ?> push = (ServerMethodDefinition<PushMessage, ?>) m;
        out = lenient(push);
      }
      methods.add(out);
      descriptor.addMethod(out.getMethodDescriptor());
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    for (ServerMethodDefinition<?, ?> m : methods) {
      b.addMethod(m);
    }
    return b.build();
  }

  private static <R> ServerMethodDefinition<PushMessage, R> lenient(
      ServerMethodDefinition<PushMessage, R> m) {
    MethodDescriptor<PushMessage, R> md = m.getMethodDescriptor();
    MethodDescriptor.Marshaller<PushMessage> inner = md.getRequestMarshaller();
    MethodDescriptor.Marshaller<PushMessage> tolerant = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(PushMessage value) {
        return inner.stream(value);
      }

      @Override
      public PushMessage parse(InputStream stream) {
        try {
          return inner.parse(stream);
        } catch (RuntimeException e) {
          return UNPARSEABLE;
        }
      }
    };
    return ServerMethodDefinition.create(
        md.toBuilder(tolerant, md.getResponseMarshaller()).build(), m.getServerCallHandler());
  }
}
