package dev.proxyfilter.cache.hazelcast;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;
import dev.proxyfilter.cache.ResponseCodec;
import dev.proxyfilter.cache.StoreEntry;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Hazelcast's view of {@link ResponseCodec}: entries cross the network and sit in the shared map in the
 * codec's compact, versioned form, not through Java serialisation. Members store the bytes as they come and
 * never read them, so an external cluster ({@code cluster.mode=client}) needs no class of ours; the near cache
 * keeps entries decoded ({@code OBJECT} format), so a hot hit decodes nothing.
 */
public final class StoreEntrySerializer implements StreamSerializer<StoreEntry> {
    /** Hazelcast's id of this serializer; any positive number no other serializer of the cluster uses. */
    public static final int TYPE_ID = 0x5046_0001;

    @Override
    public int getTypeId() {
        return TYPE_ID;
    }

    @Override
    public void write(ObjectDataOutput out, StoreEntry entry) throws IOException {
        ByteBuffer bytes = ResponseCodec.encode(entry);
        byte[] array = new byte[bytes.remaining()];
        bytes.get(array);
        out.writeByteArray(array);
    }

    @Override
    public StoreEntry read(ObjectDataInput in) throws IOException {
        byte[] array = in.readByteArray();
        try {
            return ResponseCodec.decode(ByteBuffer.wrap(array));
        } catch (IllegalArgumentException e) {
            throw new IOException("not a cache entry of this version", e);
        }
    }
}
