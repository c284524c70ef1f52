package compat;

import org.apache.rocketmq.acl.common.AclClientRPCHook;
import org.apache.rocketmq.acl.common.SessionCredentials;
import org.apache.rocketmq.remoting.RPCHook;

/**
 * Optional request signing for the drivers: with -Dcompat.accessKey=AK -Dcompat.secretKey=SK
 * every request carries upstream's AclClientRPCHook signature (AccessKey, Signature); without
 * them the drivers build their clients exactly as before (no hook at all).
 * The class lives in the client jar (5.x) or rocketmq-acl (4.9.x), same package in both.
 */
final class Credentials {
    private Credentials() {
    }

    /** The signing hook, or null when no access key is given. */
    static RPCHook hook() {
        String ak = System.getProperty("compat.accessKey", "");
        if (ak.isEmpty()) {
            return null;
        }
        return new AclClientRPCHook(new SessionCredentials(ak, System.getProperty("compat.secretKey", "")));
    }
}
