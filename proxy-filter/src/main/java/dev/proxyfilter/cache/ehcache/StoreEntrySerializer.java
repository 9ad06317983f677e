package dev.proxyfilter.cache.ehcache;

import dev.proxyfilter.cache.ResponseCodec;
import dev.proxyfilter.cache.StoreEntry;
import java.nio.ByteBuffer;
import org.ehcache.spi.serialization.Serializer;
import org.ehcache.spi.serialization.SerializerException;

/**
 * Ehcache's view of {@link ResponseCodec}: entries go to the off-heap and disk tiers in the codec's compact,
 * versioned form rather than through Java serialisation. Stateless, so the same class serves transient and
 * persistent tiers; Ehcache instantiates it through the {@link ClassLoader} constructor.
 */
public final class StoreEntrySerializer implements Serializer<StoreEntry> {

    /** The constructor Ehcache calls; the class loader is not needed, no class names are written. */
    public StoreEntrySerializer(ClassLoader classLoader) {
        // stateless
    }

    @Override
    public ByteBuffer serialize(StoreEntry entry) throws SerializerException {
        return ResponseCodec.encode(entry);
    }

    @Override
    public StoreEntry read(ByteBuffer binary) throws SerializerException {
        try {
            return ResponseCodec.decode(binary);
        } catch (IllegalArgumentException e) {
            throw new SerializerException(e);
        }
    }

    @Override
    public boolean equals(StoreEntry entry, ByteBuffer binary) throws SerializerException {
        return ResponseCodec.encode(entry).equals(binary);
    }
}
