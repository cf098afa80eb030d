/* SPDX-License-Identifier: BSD-3-Clause */
/* ThreadSanitizer annotations for liburcu's grace periods.  Empty unless
 * the build is -fsanitize=thread.
 *
 * liburcu is not instrumented: TSan does not see that synchronize_rcu()
 * waits until every reader passed a quiescent state, that a call_rcu()
 * callback runs after one, or that rcu_barrier() waits for the callbacks.
 * Without help it reports every reclamation after a grace period as a race
 * with the readers' last accesses.  The model below says exactly what QSBR
 * guarantees, no more:
 *
 *   reader:  accesses ... XGW_TSAN_RCU_QS(); rcu_quiescent_state()
 *            (also before rcu_thread_offline() and rcu_unregister_thread())
 *   updater: synchronize_rcu(); XGW_TSAN_RCU_GP_DONE(); free(old)
 *   call_rcu callback: XGW_TSAN_RCU_GP_DONE() first
 *
 * XGW_TSAN_RCU_QS is a release on one global sync object, GP_DONE an
 * acquire of it: after the grace period, the updater is ordered after every
 * reader's accesses made before a quiescent state it announced so far.
 * That is what QSBR provides (the quiescent state is a full barrier and a
 * store the grace period reads).  The annotation is a little generous to a
 * reader whose quiescent state came after the grace period ended but before
 * the acquire: the accesses it covers then are of the new version, which
 * the updater does not free.  A reader still using a pointer after its
 * quiescent state, the bug RCU is about, stays visible: that access is not
 * covered by any release.
 *
 * XGW_TSAN_RELEASE/ACQUIRE on another address model a hand-off through
 * liburcu (call_rcu's queue, rcu_barrier). */
#ifndef XGW_TSAN_H
#define XGW_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define XGW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XGW_TSAN 1
#endif
#endif

#ifdef XGW_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
/* One object per program (weak: defined by every includer, merged by the
 * linker); only their addresses matter. */
extern char xgw_tsan_rcu_gp, xgw_tsan_rcu_cb;
__attribute__((weak)) char xgw_tsan_rcu_gp, xgw_tsan_rcu_cb;
#define XGW_TSAN_RELEASE(p) __tsan_release((void *)(p))
#define XGW_TSAN_ACQUIRE(p) __tsan_acquire((void *)(p))
#else
#define XGW_TSAN_RELEASE(p) ((void)0)
#define XGW_TSAN_ACQUIRE(p) ((void)0)
#endif

/* Grace periods (see above). */
#define XGW_TSAN_RCU_QS()      XGW_TSAN_RELEASE(&xgw_tsan_rcu_gp)
#define XGW_TSAN_RCU_GP_DONE() XGW_TSAN_ACQUIRE(&xgw_tsan_rcu_gp)
/* End of a call_rcu callback / return of rcu_barrier(). */
#define XGW_TSAN_RCU_CB_DONE()	    XGW_TSAN_RELEASE(&xgw_tsan_rcu_cb)
#define XGW_TSAN_RCU_BARRIER_DONE() XGW_TSAN_ACQUIRE(&xgw_tsan_rcu_cb)

#endif
