# rpm %preun -- pxeimagesfs: on erase ($1 = 0), stop every view the package runs.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
	systemctl stop 'pxeimagesfs.service' 'pxeimagesfs@*.service' >/dev/null 2>&1 || :
	systemctl --no-reload disable 'pxeimagesfs.service' >/dev/null 2>&1 || :
fi
